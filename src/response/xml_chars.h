// Internal to the xml decoder (xml.cpp): character-level rules of Go's encoding/xml Decoder.
#pragma once

#include <string>
#include <string_view>

namespace gw::response::xml_chars {

// isNameByte: ASCII name bytes; every non-ASCII byte is taken into a name and checked by is_valid_name.
bool is_name_byte(unsigned char c);
// isName: valid UTF-8 not starting with a digit, '.' or '-' (non-ASCII letters are not classified).
bool is_valid_name(std::string_view name);
// utf8.DecodeRune: the rune at s[i] (i advances), or char32_t(-1) for an invalid sequence.
char32_t decode_rune(std::string_view s, std::size_t& i);
// string(rune(r)): a surrogate becomes U+FFFD.
void append_utf8(char32_t r, std::string& out);
// isInCharacterRange: the XML 1.0 Char production.
bool in_character_range(char32_t r);
// fmt's %U: "U+0000".
std::string go_rune_format(char32_t r);
// procInst(param, s): the quoted value after `param=` in an <?xml ...?> body, "" when absent.
std::string_view proc_inst(std::string_view param_name, std::string_view s);
// x/net/html/charset labels (case-insensitive, trimmed by the caller) for windows-1252 and UTF-8.
bool is_cp1252_label(std::string label);
bool is_utf8_label(std::string_view label);
// windows-1252 byte to rune (x/text charmap; 0x81 0x8D 0x8F 0x90 0x9D map to the C1 controls).
char32_t cp1252_rune(unsigned char b);

}  // namespace gw::response::xml_chars
