// The backend response parser's callbacks: Beast frames the message, these keep the head and copy
// body bytes into the caller's buffer.
#include <cstring>

#include "upstream/upstream.h"

namespace gw::upstream {

const ResponseHead::Field* ResponseHead::find(http::field id) const {
  for (const Field& f : fields_)
    if (f.id == id) return &f;
  return end();
}

const ResponseHead::Field* ResponseHead::find(std::string_view name) const {
  const http::field id = http::string_to_field(name);
  if (id != http::field::unknown) return find(id);
  for (const Field& f : fields_)
    if (f.id == http::field::unknown && beast::iequals(f.name_text, name)) return &f;
  return end();
}

beast::string_view ResponseHead::operator[](http::field id) const {
  const Field* f = find(id);
  return f == end() ? beast::string_view() : f->value();
}

beast::string_view ResponseHead::operator[](std::string_view name) const {
  const Field* f = find(name);
  return f == end() ? beast::string_view() : f->value();
}

void ResponseParser::on_response_impl(int code, beast::string_view, int version, error_code&) {
  head_.status_ = static_cast<unsigned>(code);
  head_.version_ = static_cast<unsigned>(version);
}

void ResponseParser::on_field_impl(http::field id, beast::string_view name, beast::string_view value,
                                   error_code& ec) {
  // Beast's fields refused names and values of 64 KiB or more (16-bit sizes); the gateway keeps that
  // limit per field, under the whole head's header_limit.
  if (name.size() > 0xffff || value.size() > 0xffff) {
    ec = http::error::header_limit;
    return;
  }
  // Name and value in one arena piece (the views into Beast's buffer do not outlive the call).
  char* copy = static_cast<char*>(arena_->allocate(name.size() + value.size(), 1));
  std::memcpy(copy, name.data(), name.size());
  std::memcpy(copy + name.size(), value.data(), value.size());
  head_.fields_.push_back({id, {copy, name.size()}, {copy + name.size(), value.size()}});
}

std::size_t ResponseParser::on_body_impl(beast::string_view bytes, error_code& ec) {
  // As http::buffer_body: what fits goes to the caller's buffer; need_buffer asks for more room.
  if (!body_.data) {
    ec = http::error::need_buffer;
    return 0;
  }
  const std::size_t n = std::min(body_.size, bytes.size());
  if (n) std::memcpy(body_.data, bytes.data(), n);
  body_.data = static_cast<char*>(body_.data) + n;
  body_.size -= n;
  if (n < bytes.size()) ec = http::error::need_buffer;
  return n;
}

}  // namespace gw::upstream
