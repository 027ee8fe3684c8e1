#include "telemetry/logging.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <regex>

#include "telemetry/encoding.h"

namespace gw::telemetry {
namespace {

boost::json::object parse_line(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  return boost::json::parse(line).as_object();
}

TEST(Logging, Rfc3339Millis) {
  EXPECT_EQ(rfc3339_ms(1754560800123456789), "2025-08-07T10:00:00.123Z");
  EXPECT_EQ(rfc3339_ms(1754560801000000000), "2025-08-07T10:00:01.000Z");
}

TEST(Logging, LineFormatAndFields) {
  LoggingConfig c;
  c.prefix = "[API-GW]";
  Logger log(c, 1);
  auto o = parse_line(log.format_line(LogLevel::warning, "bad \"thing\"\n",
                                      {{"count", 3}, {"ok", true}, {"path", "/x"}, {"ratio", 0.5}}, nullptr,
                                      1754560800123000000));
  EXPECT_EQ(o["timestamp"], "2025-08-07T10:00:00.123Z");
  EXPECT_EQ(o["level"], "WARNING");
  EXPECT_EQ(o["message"], "bad \"thing\"\n");
  EXPECT_EQ(o["prefix"], "[API-GW]");
  EXPECT_EQ(o["count"], 3);
  EXPECT_EQ(o["ok"], true);
  EXPECT_EQ(o["path"], "/x");
  EXPECT_EQ(o["ratio"], 0.5);
  EXPECT_FALSE(o.contains("dd.trace_id"));
}

TEST(Logging, DatadogInjection) {
  LoggingConfig c;
  std::map<std::string, std::string> env{{"DD_LOGS_INJECTION", "true"},
                                         {"DD_SERVICE", "api-gateway"},
                                         {"DD_ENV", "prod"},
                                         {"DD_VERSION", "1.0.0"}};
  c.apply_env([&](const char* k) -> const char* { return env.count(k) ? env[k].c_str() : nullptr; });
  Logger log(c, 1);
  LogCorrelation corr{1234567890123456789ull, 0x640cfd8d00000000ull, 987654321987654321ull};
  auto o = parse_line(log.format_line(LogLevel::info, "GET /api/valid 200", {}, &corr, 0));
  EXPECT_EQ(o["dd.trace_id"], "1234567890123456789");  // decimal low 64 bits, like the span's trace_id
  EXPECT_EQ(o["dd.span_id"], "987654321987654321");
  EXPECT_EQ(o["dd.service"], "api-gateway");
  EXPECT_EQ(o["dd.env"], "prod");
  EXPECT_EQ(o["dd.version"], "1.0.0");
  // Outside a request: no ids.
  EXPECT_FALSE(
      parse_line(log.format_line(LogLevel::info, "startup", {}, nullptr, 0)).contains("dd.trace_id"));
  // Opt-in 128-bit form.
  env["DD_TRACE_128_BIT_TRACEID_LOGGING_ENABLED"] = "true";
  LoggingConfig c128;
  c128.apply_env([&](const char* k) -> const char* { return env.count(k) ? env[k].c_str() : nullptr; });
  Logger log128(c128, 1);
  EXPECT_EQ(parse_line(log128.format_line(LogLevel::info, "x", {}, &corr, 0))["dd.trace_id"],
            "640cfd8d00000000112210f47de98115");
}

TEST(Logging, AccessLogBatchedToFdAndLevelFiltered) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  LoggingConfig c;
  c.fd = fds[1];
  c.level = LogLevel::info;
  c.dd_logs_injection = true;
  {
    Logger log(c, 2);
    log.log(0, LogLevel::debug, "hidden");
    LogCorrelation corr{7, 0, 8};
    log.access(1, {"GET", "/api/valid?x=1", "/api/valid", "10.0.0.1", "curl/8", 200, 1500000, 57}, &corr);
    log.log(0, LogLevel::error, "boom", {{"backend", "/valid/"}});
  }  // destructor flushes
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  std::vector<std::string> lines;
  for (std::size_t p = 0, q; (q = out.find('\n', p)) != std::string::npos; p = q + 1)
    lines.push_back(out.substr(p, q - p + 1));
  ASSERT_EQ(lines.size(), 2u) << out;
  boost::json::object access, error;
  for (const auto& l : lines) {
    auto o = parse_line(l);
    (o["level"] == "ERROR" ? error : access) = o;
  }
  EXPECT_EQ(access["message"], "GET /api/valid?x=1 200");
  EXPECT_EQ(access["http.method"], "GET");
  EXPECT_EQ(access["http.route"], "/api/valid");
  EXPECT_EQ(access["http.status_code"], 200);
  EXPECT_EQ(access["network.client.ip"], "10.0.0.1");
  EXPECT_EQ(access["http.useragent"], "curl/8");
  EXPECT_EQ(access["network.bytes_written"], 57);
  EXPECT_EQ(access["duration"], 1500000);
  EXPECT_EQ(access["dd.trace_id"], "7");
  EXPECT_EQ(access["dd.span_id"], "8");
  EXPECT_EQ(error["backend"], "/valid/");
}

// A lane that fills up to flush_bytes wakes the writer long before flush_interval: the buffers stay
// small (and in cache) under load.
TEST(Logging, AFullLaneIsWrittenBeforeTheInterval) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  LoggingConfig c;
  c.fd = fds[1];
  c.flush_interval = std::chrono::seconds(30);
  c.flush_bytes = 1024;
  {
    Logger log(c, 1);
    for (int i = 0; i < 20; ++i)
      log.log(0, LogLevel::info, "a line of about a hundred bytes with its timestamp");
    pollfd p{fds[0], POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 5000), 1) << "nothing written within 5 s although the lane passed flush_bytes";
  }  // the rest (a few KiB) fits in the pipe
  close(fds[1]);
  close(fds[0]);
}

// stdout on a pipe (a container runtime's) is widened so one lane flush fits: writing 256 KiB into
// the default 64 KiB pipe took several blocking writes and wake-ups. A file is left alone.
TEST(Logging, StdoutPipeIsWidenedToHoldAFlush) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  LoggingConfig c;
  ASSERT_LT(static_cast<std::size_t>(fcntl(fds[1], F_GETPIPE_SZ)), c.flush_bytes);
  c.fd = fds[1];
  { Logger log(c, 1); }
  EXPECT_GE(static_cast<std::size_t>(fcntl(fds[1], F_GETPIPE_SZ)), c.flush_bytes);
  close(fds[1]);
  close(fds[0]);
  c.stdout_enabled = false;  // logging off: the fd is not touched
  ASSERT_EQ(pipe(fds), 0);
  c.fd = fds[1];
  { Logger log(c, 1); }
  EXPECT_LT(static_cast<std::size_t>(fcntl(fds[1], F_GETPIPE_SZ)), c.flush_bytes);
  close(fds[1]);
  close(fds[0]);
}

TEST(Logging, ParseLevel) {
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warning);
  EXPECT_EQ(parse_log_level("CRITICAL"), LogLevel::critical);
  EXPECT_FALSE(parse_log_level("loud"));
}

}  // namespace
}  // namespace gw::telemetry

namespace gw::telemetry {
namespace {

// hex16_to (SSE2 on x86-64) against printf, and copy_bytes at every size around its 1/4/8/16 cases.
TEST(Encoding, HexDigitsAndShortCopies) {
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const std::uint64_t v = x >> (i % 64);
    char mine[17] = {}, want[17];
    detail::hex16_to(mine, v);
    std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(v));
    ASSERT_STREQ(mine, want);
  }
  std::string src(40, '\0');
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<char>('A' + i);
  for (std::size_t n = 0; n <= src.size(); ++n) {
    std::string dst(src.size() + 2, '.');
    detail::copy_bytes(dst.data() + 1, src.data(), n);
    EXPECT_EQ(dst, "." + src.substr(0, n) + std::string(src.size() + 1 - n, '.')) << n;
  }
}

// The hand-rolled decimal writer (ids in headers and log lines) must print exactly what to_chars does,
// at every digit count and chunk boundary.
TEST(Encoding, DecimalMatchesToChars) {
  auto check = [](std::int64_t signed_value, std::uint64_t v) {
    char mine[24], want[24];
    const std::string_view got(mine, detail::u64_decimal(mine, v) - mine);
    ASSERT_EQ(got, std::string_view(want, std::to_chars(want, want + 24, v).ptr - want));
    const std::string_view got_signed(mine, detail::i64_decimal(mine, signed_value) - mine);
    ASSERT_EQ(got_signed, std::string_view(want, std::to_chars(want, want + 24, signed_value).ptr - want));
  };
  std::uint64_t p = 1;
  for (int digits = 0; digits < 20; ++digits, p *= 10)
    for (std::uint64_t v : {p - 1, p, p + 1, 2 * p - 1, 9 * p, 9 * p + p - 1})
      check(static_cast<std::int64_t>(v), v);
  for (std::uint64_t v : {0ull, ~0ull, ~0ull - 1, 1ull << 63, (1ull << 63) - 1})
    check(static_cast<std::int64_t>(v), v);
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    check(static_cast<std::int64_t>(x), x >> (i % 64));
  }
}

// The 8-byte test behind json_escape_to's fast path agrees with the byte table for every byte value
// at every position, with plain bytes around it; and escaping through it matches escaping byte by byte.
TEST(Encoding, JsonPlainWordMatchesTheByteTable) {
  for (int position = 0; position < 8; ++position) {
    for (int byte = 0; byte < 256; ++byte) {
      char word[8];
      std::memset(word, 'a', sizeof word);
      word[position] = static_cast<char>(byte);
      ASSERT_EQ(detail::json_plain_word(word), detail::kJsonPlain[static_cast<std::size_t>(byte)])
          << "byte " << byte << " at " << position;
    }
  }
  std::uint64_t x = 0x9e3779b97f4a7c15ull;  // words with several special bytes at once
  for (int i = 0; i < 200000; ++i) {
    char word[8];
    bool plain = true;
    for (char& c : word) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x % 4 ? 'a' + x % 26 : (x >> 8) & 0xff);
      plain = plain && detail::kJsonPlain[static_cast<unsigned char>(c)];
    }
    ASSERT_EQ(detail::json_plain_word(word), plain) << i;
  }
  auto escaped = [](std::string_view s) {
    std::string out(6 * s.size(), '\0');
    out.resize(static_cast<std::size_t>(detail::json_escape_to(out.data(), s) - out.data()));
    return out;
  };
  EXPECT_EQ(escaped("/api/v1/items?id=42&sort=name"), "/api/v1/items?id=42&sort=name");
  EXPECT_EQ(escaped("/a/long/path/with\"quote/and\\back\nslash"),
            "/a/long/path/with\\\"quote/and\\\\back\\nslash");
  EXPECT_EQ(escaped("Mozilla/5.0 (X11; Linux x86_64) caf\xc3\xa9 \xff end"),
            "Mozilla/5.0 (X11; Linux x86_64) caf\xc3\xa9 \\ufffd end");
  EXPECT_EQ(escaped(std::string_view("0123456\x01"
                                     "89abcdef",
                                     16)),
            "0123456\\u000189abcdef");
}

}  // namespace
}  // namespace gw::telemetry
