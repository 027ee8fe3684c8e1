// Private to the appsec module: the decoding transformers (transform_decode.cpp), split from
// transform.cpp to keep files short. Each rewrites `value` in place.
#pragma once

#include <string>

namespace gw::appsec::detail::decode {

void html_entities(std::string& value);
void js_escapes(std::string& value);
void css_escapes(std::string& value);
void unicode_normalize(std::string& value);

}  // namespace gw::appsec::detail::decode
