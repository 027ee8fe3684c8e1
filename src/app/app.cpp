#include "app/app.h"

namespace gw::app {
int main(int, char**) { return 0; }
}  // namespace gw::app
