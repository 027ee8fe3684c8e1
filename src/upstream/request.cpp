// upstream::Request: a backend request as data, and its HTTP/1.1 form.
#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "upstream/upstream.h"

namespace gw::upstream {

Request::Request(std::string_view method, std::string_view target, std::string_view authority) : Request() {
  set_line(method, target);
  set_authority(authority);
}

Request::Piece Request::put(std::string_view s) {
  Piece p{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(s.size())};
  text_.append(s);
  return p;
}

void Request::set_line(std::string_view method, std::string_view target) {
  method_ = put(method);
  target_ = put(target);
}

void Request::add(std::string_view name, std::string_view value) {
  fields_.push_back({put(name), put(value)});
}

void Request::add_canonical(std::string_view name, std::string_view value) {
  // Go's textproto.CanonicalMIMEHeaderKey: the first letter and each one after '-' upper-case, the
  // rest lower-case (ASCII only); a name with a space is left as it is.
  const Piece n = put(name);
  if (name.find(' ') == std::string_view::npos) {
    bool upper = true;
    for (char* c = text_.data() + n.at; c != text_.data() + n.at + n.size; ++c) {
      if (upper && *c >= 'a' && *c <= 'z') *c = static_cast<char>(*c - 'a' + 'A');
      if (!upper && *c >= 'A' && *c <= 'Z') *c = static_cast<char>(*c - 'A' + 'a');
      upper = *c == '-';
    }
  }
  fields_.push_back({n, put(value)});
}

void Request::remove(std::string_view name) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const auto& f) { return boost::beast::iequals(view(f.first), name); }),
                fields_.end());
}

std::string http1_head(const Request& r) {
  std::size_t size = 64 + r.method().size() + r.target().size() + r.authority().size();
  for (std::size_t i = 0; i < r.field_count(); ++i)
    size += r.field(i).name.size() + r.field(i).value.size() + 4;
  std::string head;
  head.reserve(size);
  head.append(r.method()).append(1, ' ').append(r.target()).append(" HTTP/1.1\r\nHost: ");
  head.append(r.authority()).append("\r\n");
  for (std::size_t i = 0; i < r.field_count(); ++i) {
    const auto f = r.field(i);
    head.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  if (r.framing == Request::Framing::length) {
    head += "Content-Length: ";
    head += std::to_string(r.source ? r.length : r.body.size());
    head += "\r\n";
  } else if (r.framing == Request::Framing::chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace gw::upstream
