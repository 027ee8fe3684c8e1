# Writes OUTPUT: a C++ file defining gw::appsec::builtin_rules() as the bytes of INPUT.
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}: do not edit.\n#include \"appsec/appsec.h\"\n"
     "namespace gw::appsec {\nnamespace {\nconstexpr char kRules[] = {${bytes} 0};\n}\n"
     "std::string_view builtin_rules() { return {kRules, sizeof kRules - 1}; }\n}\n")
