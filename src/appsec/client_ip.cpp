// http.client_ip the way Datadog's tracers pick it (docs/datadog-appsec.md section 7): the first public
// address in the forwarding headers, else the peer when public, else the first private address seen.
#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "appsec/appsec.h"
#include "appsec/text_util.h"

namespace gw::appsec {
namespace {

namespace text = detail::text;

using namespace std::string_view_literals;

// Checked in this order when no override header is configured.
constexpr std::array<std::string_view, 11> kIpHeaders = {
    "x-forwarded-for"sv,  "x-real-ip"sv,        "true-client-ip"sv,     "x-client-ip"sv,
    "x-forwarded"sv,      "forwarded"sv,        "forwarded-for"sv,      "x-cluster-client-ip"sv,
    "fastly-client-ip"sv, "cf-connecting-ip"sv, "cf-connecting-ipv6"sv,
};

struct Ip {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};

  bool is_private() const {
    const unsigned char* b = bytes;
    if (family == AF_INET) {
      return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
             b[0] == 127 || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xc0) == 64);
    }
    static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(b, kLoopback, 16) == 0 ||       // ::1
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link-local
           (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||  // fec0::/10 site-local
           (b[0] & 0xfe) == 0xfc;                      // fc00::/7 unique local
  }

  std::string text() const {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(family, bytes, buf, sizeof buf) == nullptr) return {};
    return buf;
  }
};

bool all_digits(std::string_view s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A bare address literal. IPv4-mapped IPv6 becomes IPv4, so it is classified and reported as IPv4.
std::optional<Ip> parse_literal(std::string_view text, bool v6_only) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;  // also bounds hostile input
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Ip ip;
  if (!v6_only && inet_pton(AF_INET, buf, ip.bytes) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes) != 1) return std::nullopt;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes, kMapped, 12) == 0) {
    std::memmove(ip.bytes, ip.bytes + 12, 4);
    std::memset(ip.bytes + 4, 0, 12);
    ip.family = AF_INET;
  } else {
    ip.family = AF_INET6;
  }
  return ip;
}

// One list entry: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`, optionally double-quoted.
std::optional<Ip> parse_entry(std::string_view entry) {
  entry = text::trim_ows(entry);
  if (entry.size() >= 2 && entry.front() == '"' && entry.back() == '"') {
    entry = text::trim_ows(entry.substr(1, entry.size() - 2));
  }
  if (entry.empty()) return std::nullopt;
  if (entry.front() == '[') {
    const std::size_t close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !all_digits(rest.substr(1), 5))) return std::nullopt;
    return parse_literal(entry.substr(1, close - 1), true);
  }
  const std::size_t colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    // Exactly one colon: IPv4 with a port (a bare IPv6 address has at least two).
    if (!all_digits(entry.substr(colon + 1), 5)) return std::nullopt;
    entry = entry.substr(0, colon);
  }
  return parse_literal(entry, false);
}

// Keeps the first public and the first private address offered.
struct Picker {
  std::optional<Ip> first_public, first_private;

  // True once a public address is known: the caller can stop looking.
  bool offer(std::string_view entry) {
    const std::optional<Ip> ip = parse_entry(entry);
    if (!ip) return false;
    if (!ip->is_private()) {
      first_public = ip;
      return true;
    }
    if (!first_private) first_private = ip;
    return false;
  }

  // `a, b, c`
  bool offer_list(std::string_view value) {
    while (true) {
      const std::size_t comma = value.find(',');
      if (offer(value.substr(0, comma))) return true;
      if (comma == std::string_view::npos) return false;
      value.remove_prefix(comma + 1);
    }
  }

  // RFC 7239 `for=1.2.3.4;proto=http, for="[::1]:80"`: pairs split on ',' and ';' outside quotes.
  bool offer_forwarded(std::string_view value) {
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= value.size(); ++i) {
      const char c = i < value.size() ? value[i] : ',';
      if (c == '"') quoted = !quoted;
      if (quoted && i < value.size()) continue;
      if (c != ',' && c != ';') continue;
      const std::string_view pair = text::trim_ows(value.substr(start, i - start));
      start = i + 1;
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && text::iequals(text::trim_ows(pair.substr(0, eq)), "for") &&
          offer(pair.substr(eq + 1))) {
        return true;
      }
    }
    return false;
  }

  // A header whose syntax is not fixed by its name (the override): Forwarded when it has `for=`.
  bool offer_any(std::string_view value) {
    for (std::size_t i = 0; i + 4 <= value.size(); ++i) {
      if (text::iequals(value.substr(i, 4), "for=")) return offer_forwarded(value);
    }
    return offer_list(value);
  }
};

}  // namespace

std::string resolve_client_ip(const std::vector<Field>& headers, std::string_view peer_ip,
                              std::string_view header_override) {
  Picker picker;
  bool found = false;
  if (!header_override.empty()) {
    for (const Field& h : headers) {
      if (text::iequals(h.name, header_override) && picker.offer_any(h.value)) {
        found = true;
        break;
      }
    }
  } else {
    for (std::string_view name : kIpHeaders) {
      const bool forwarded = name == "forwarded" || name == "x-forwarded";
      for (const Field& h : headers) {
        if (!text::iequals(h.name, name)) continue;
        found = forwarded ? picker.offer_forwarded(h.value) : picker.offer_list(h.value);
        if (found) break;
      }
      if (found) break;
    }
  }
  if (found) return picker.first_public->text();
  // No public address in the headers: a public peer beats a private header address, which beats a
  // private peer.
  const std::optional<Ip> peer = parse_entry(peer_ip);
  if (peer && !peer->is_private()) return peer->text();
  if (picker.first_private) return picker.first_private->text();
  if (peer) return peer->text();
  return {};
}

}  // namespace gw::appsec
