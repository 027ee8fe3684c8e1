// Command line entry point: `run`, `check`, `version`, like the krakend CLI.
#pragma once

namespace gw::app {
int main(int argc, char** argv);
}
