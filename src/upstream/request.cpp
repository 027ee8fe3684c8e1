// upstream::Request: a backend request as data, kept in HTTP/1.1 order so writing it copies nothing.
#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <cstring>

#include "upstream/upstream.h"

namespace gw::upstream {

Request::Request(std::string_view method, std::string_view target, std::string_view authority) : Request() {
  set_method(method);
  open_target().append(target);
  close_target();
  set_authority(authority);
}

void Request::set_method(std::string_view method) {
  text_.clear();
  fields_.clear();
  text_.append(method);
  method_ = {0, static_cast<std::uint32_t>(method.size())};
  text_ += ' ';
  target_.at = end();
}

void Request::close_target() {
  target_.size = end() - target_.at;
  text_ += " HTTP/1.1\r\nHost: ";
}

void Request::set_authority(std::string_view authority) {
  authority_ = {end(), static_cast<std::uint32_t>(authority.size())};
  text_.append(authority).append("\r\n");
}

void Request::add(std::string_view name, std::string_view value) {
  // One growth check and plain copies: this runs for every forwarded field of every backend call.
  const std::size_t at = text_.size(), need = name.size() + value.size() + 4;
  if (text_.capacity() - at < need) text_.reserve(std::max(2 * text_.capacity(), at + need));
  text_.append(need, '\0');
  char* p = text_.data() + at;
  std::memcpy(p, name.data(), name.size());
  std::memcpy(p + name.size(), ": ", 2);
  std::memcpy(p + name.size() + 2, value.data(), value.size());
  std::memcpy(p + need - 2, "\r\n", 2);
  fields_.push_back(
      {Piece{static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(name.size())},
       Piece{static_cast<std::uint32_t>(at + name.size() + 2), static_cast<std::uint32_t>(value.size())}});
}

void Request::add_lines(std::string_view lines) {
  const std::size_t base = text_.size();
  text_.append(lines);  // already "Name: value\r\n" lines: copied once, then only indexed
  for (std::size_t pos = 0; pos < lines.size();) {
    const std::size_t eol = lines.find("\r\n", pos), colon = lines.find(": ", pos);
    if (eol == std::string_view::npos || colon > eol) {  // not a field line: keep nothing of it
      text_.resize(base + pos);
      return;
    }
    fields_.push_back(
        {Piece{static_cast<std::uint32_t>(base + pos), static_cast<std::uint32_t>(colon - pos)},
         Piece{static_cast<std::uint32_t>(base + colon + 2), static_cast<std::uint32_t>(eol - colon - 2)}});
    pos = eol + 2;
  }
}

void Request::add_canonical(std::string_view name, std::string_view value) {
  const std::uint32_t at = end();
  add(name, value);
  // Go's textproto.CanonicalMIMEHeaderKey: the first letter and each one after '-' upper-case, the
  // rest lower-case (ASCII only); a name with a space is left as it is.
  if (name.find(' ') != std::string_view::npos) return;
  bool upper = true;
  for (char* c = text_.data() + at; c != text_.data() + at + name.size(); ++c) {
    if (upper && *c >= 'a' && *c <= 'z') *c = static_cast<char>(*c - 'a' + 'A');
    if (!upper && *c >= 'A' && *c <= 'Z') *c = static_cast<char>(*c - 'A' + 'a');
    upper = *c == '-';
  }
}

void Request::rebuild(std::string_view method, std::string_view target, std::string_view authority,
                      std::string_view drop) {
  Request next;
  next.set_method(method);
  next.open_target().append(target);
  next.close_target();
  next.set_authority(authority);
  for (std::size_t i = 0; i < field_count(); ++i) {
    const Field f = field(i);
    if (!drop.empty() && boost::beast::iequals(f.name, drop)) continue;
    next.add(f.name, f.value);
  }
  text_ = std::move(next.text_);
  method_ = next.method_;
  target_ = next.target_;
  authority_ = next.authority_;
  fields_ = std::move(next.fields_);
}

void Request::set_line(std::string_view method, std::string_view target) {
  // The views point into text_, which rebuild replaces only at its end.
  rebuild(method, target, authority(), {});
}

void Request::change_authority(std::string_view authority) { rebuild(method(), target(), authority, {}); }

void Request::remove(std::string_view name) { rebuild(method(), target(), authority(), name); }

HeadTail http1_tail(const Request& r) {
  HeadTail t;
  auto put = [&](std::string_view s) {
    std::memcpy(t.bytes + t.size, s.data(), s.size());
    t.size = static_cast<std::uint8_t>(t.size + s.size());
  };
  if (r.framing == Request::Framing::length) {
    put("Content-Length: ");
    char digits[24];
    const auto n =
        std::to_chars(digits, digits + sizeof digits, r.source ? r.length : r.body.size()).ptr - digits;
    put(std::string_view(digits, static_cast<std::size_t>(n)));
    put("\r\n");
  } else if (r.framing == Request::Framing::chunked) {
    put("Transfer-Encoding: chunked\r\n");
  }
  put("\r\n");
  return t;
}

std::string http1_head(const Request& r) {
  std::string head(r.http1_text());
  head.append(http1_tail(r).view());
  return head;
}

}  // namespace gw::upstream
