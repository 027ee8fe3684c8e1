#include "app/app.h"

int main(int argc, char** argv) { return gw::app::main(argc, argv); }
