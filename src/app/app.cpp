// The krakend-compatible command line: run, check, version.
#include "app/app.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "app/observability.h"
#include "appsec/appsec.h"
#include "config/config.h"
#include "proxy/proxy.h"
#include "server/server.h"

namespace gw::app {

namespace {

constexpr const char* kUsage = R"(api-gateway — a KrakenD-compatible API gateway

Usage:
  api-gateway run -c FILE [-d] [-p PORT]   serve the configuration
  api-gateway check -c FILE [-d]           validate the configuration ("Syntax OK!")
  api-gateway version                      print the version
  api-gateway --help

Flags:
  -c, --config FILE   path to krakend.json (version 3)
  -d, --debug         enable the /__debug/ endpoint
  -p, --port PORT     listen port (overrides "port")

Environment:
  KRAKEND_<KEY>             override a top-level config key (e.g. KRAKEND_PORT=9000)
  GATEWAY_HOST_OVERRIDES    name:port=host:port,... rewrites backend hosts (local runs)
  GATEWAY_WORKERS           worker threads (default: number of cores)
  GATEWAY_MAX_CONNECTIONS   client connections at once (default 100000)
  GATEWAY_MAX_URI_BYTES     longest request-target before 414 (default 8192)
  GATEWAY_ALLOW_UNIMPLEMENTED=true
                            start even when krakend.json uses a protective namespace this gateway
                            does not implement (auth/*, security/*, qos/ratelimit/*, validation/*,
                            tls, ...): each is logged as "NOT ENFORCED" and NOT applied. Off by
                            default: such configs are refused. For migrations only.
  DD_TRACE_ENABLED=true     Datadog traces to DD_AGENT_HOST:DD_TRACE_AGENT_PORT or DD_TRACE_AGENT_URL
  DD_LOGS_INJECTION=true    dd.trace_id / dd.span_id in every log line
)";

struct Args {
  std::string command;
  std::string config;
  bool debug = false;
  int port = 0;
  bool help = false;
  std::string error;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      auto eq = arg.find('=');
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) {
        a.error = std::string("flag needs an argument: ") + flag;
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (arg == "-h" || arg == "--help" || arg == "help") {
      a.help = true;
    } else if (arg == "-c" || arg == "--config" || arg.rfind("--config=", 0) == 0) {
      if (auto v = value("--config")) a.config = *v;
    } else if (arg == "-p" || arg == "--port" || arg.rfind("--port=", 0) == 0) {
      if (auto v = value("--port")) {
        char* end = nullptr;
        long p = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end || p < 0 || p > 65535)
          a.error = "invalid argument \"" + *v + "\" for \"-p, --port\"";
        a.port = static_cast<int>(p);
      }
    } else if (arg == "-d" || arg == "--debug" || arg == "-dd" || arg == "-ddd") {
      a.debug = true;
    } else if (a.command.empty() && !arg.empty() && arg[0] != '-') {
      a.command = arg == "validate" ? "check" : arg;
    } else {
      a.error = "unknown flag: " + arg;
    }
  }
  return a;
}

std::shared_ptr<const config::Service> load(const Args& a) {
  auto service = std::make_shared<config::Service>(config::load_file(a.config));
  if (a.debug) service->debug_endpoint = true;
  if (a.port) service->port = a.port;
  return service;
}

// AppSec settings the environment holds that will have no effect: said at start-up, never dropped silently.
std::vector<std::string> unheeded_appsec_settings() {
  std::vector<std::string> names;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    names.emplace_back(entry.substr(0, entry.find('=')));
  }
  bool on = false;
  try {
    on = appsec::Settings::from_env(telemetry::real_env).enabled;
  } catch (const appsec::LoadError&) {  // reported where the WAF is loaded
  }
  return appsec::unheeded_settings(names, on);
}

// DD_APPSEC_ENABLED: the WAF and its ruleset, or null. Throws appsec::LoadError.
std::shared_ptr<const appsec::Waf> load_waf() {
  const appsec::Settings settings = appsec::Settings::from_env(telemetry::real_env);
  return settings.enabled ? appsec::Waf::load(settings) : nullptr;
}

void log_waf(telemetry::Logger& log, unsigned lane, const appsec::Waf& waf) {
  const appsec::RulesetInfo& info = waf.info();
  const std::string source = waf.settings().rules_path.empty() ? "built-in" : waf.settings().rules_path;
  log.log(lane, telemetry::LogLevel::info, "AppSec enabled: the WAF inspects every request",
          {{"appsec.rules", source},
           {"appsec.rules_version", info.rules_version},
           {"appsec.rules_loaded", static_cast<std::int64_t>(info.loaded)},
           {"appsec.rules_failed", static_cast<std::int64_t>(info.failed)},
           {"appsec.rules_skipped", static_cast<std::int64_t>(info.skipped)}});
  if (info.failed)  // Datadog's newer rulesets use operators a proxy has no data for (RASP)
    log.log(lane, telemetry::LogLevel::warning, "AppSec: rules skipped because they could not be loaded",
            {{"errors", info.errors_json()}});
  for (const auto& section : info.ignored_sections)
    log.log(lane, telemetry::LogLevel::info, "AppSec: ruleset section not used by this WAF",
            {{"section", section}});
}

int check(const Args& a) {
  if (a.config.empty()) {
    std::cerr << "Please, provide the path to the configuration file with --config or see all the options "
                 "with --help\n";
    return 1;
  }
  std::cerr << "Parsing configuration file: " << a.config << "\n";
  try {
    auto service = load(a);
    proxy::make_gateway(service, {});  // route conflicts and pipeline options fail here, as at start-up
    for (const auto& w : service->warnings) std::cerr << "WARNING " << w << "\n";
    for (const auto& w : unheeded_appsec_settings()) std::cerr << "WARNING " << w << "\n";
    if (auto waf = load_waf())
      std::cerr << "AppSec rules: " << waf->info().loaded << " loaded, " << waf->info().failed << " failed "
                << waf->info().errors_json() << "\n";
  } catch (const config::ConfigError& e) {
    std::cerr << "ERROR parsing the configuration file:\t" << e.what() << "\n";
    return 1;
  } catch (const appsec::LoadError& e) {
    std::cerr << "ERROR AppSec (DD_APPSEC_ENABLED): " << e.what() << "\n";
    return 1;
  }
  std::cerr << "Syntax OK!\n";
  return 0;
}

int run(const Args& a) {
  if (a.config.empty()) {
    std::cerr << "Please, provide the path to the configuration file with --config or see all the options "
                 "with --help\n";
    return 1;
  }
#ifndef GATEWAY_TCMALLOC
  // The allocator's tuning, all of it here. Keep freed heap for reuse: glibc's default trimming hands
  // memory back after bursts and the next request faults it in again (measured: ~2.5 page faults per
  // aggregated request). Buffers of 1 MiB and more (big JSON bodies) get their own mapping, returned
  // to the OS when freed; glibc's adaptive threshold would otherwise keep up to 32 MiB per arena.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  if (const char* w = std::getenv("GATEWAY_WORKERS"); w && std::atoi(w) > 0)
    workers = static_cast<unsigned>(std::atoi(w));

  std::shared_ptr<const config::Service> service;
  std::unique_ptr<Observability> observability;
  std::shared_ptr<server::Handler> gateway;
  std::shared_ptr<const appsec::Waf> waf;
  try {
    service = load(a);
    waf = load_waf();
    observability = std::make_unique<Observability>(*service, workers, GATEWAY_KRAKEND_VERSION);
    proxy::Options po;
    po.metrics = observability->metrics;
    po.tracer = observability->tracer;
    po.logger = observability->logger;
    po.waf = waf;
    gateway = proxy::make_gateway(service, po);
  } catch (const config::ConfigError& e) {
    std::cerr << "ERROR parsing the configuration file: " << e.what() << "\n";
    return 255;  // krakend exits with -1
  } catch (const appsec::LoadError& e) {
    std::cerr << "ERROR AppSec (DD_APPSEC_ENABLED): " << e.what() << "\n";
    return 255;
  }
  auto& log = *observability->logger;
  const unsigned main_lane = workers;
  if (waf) log_waf(log, main_lane, *waf);
  for (const auto& w : unheeded_appsec_settings()) log.log(main_lane, telemetry::LogLevel::warning, w);
  for (const auto& w : service->warnings) {
    // A refusal GATEWAY_ALLOW_UNIMPLEMENTED let through: logged as an error and printed on stderr too.
    const bool not_enforced = w.rfind("NOT ENFORCED: ", 0) == 0;
    log.log(main_lane, not_enforced ? telemetry::LogLevel::error : telemetry::LogLevel::warning, w);
    if (not_enforced) std::cerr << "WARNING " << w << "\n";
  }

  server::Options o;
  o.listen_ip = service->listen_ip;
  o.port = static_cast<unsigned short>(service->port);
  o.workers = workers;
  o.limits.max_header_bytes = service->max_header_bytes;
  o.limits.max_body_bytes = service->max_body_bytes;
  if (service->read_header_timeout.count() > 0) o.limits.read_header_timeout = service->read_header_timeout;
  if (service->read_timeout.count() > 0) o.limits.read_timeout = service->read_timeout;
  if (service->idle_timeout.count() > 0) o.limits.idle_timeout = service->idle_timeout;
  o.max_shutdown_wait = service->max_shutdown_wait_time;

  server::Server server(o, gateway);
  try {
    server.bind();
  } catch (const std::system_error& e) {
    log.log(main_lane, telemetry::LogLevel::critical, "[SERVICE: api-gateway] listen failed",
            {{"error", e.what()}});
    log.flush();
    std::cerr << "ERROR [SERVICE: api-gateway] " << e.what() << "\n";
    return 1;
  }
  observability->start();
  log.log(main_lane, telemetry::LogLevel::info, "Starting api-gateway",
          {{"krakend_version", GATEWAY_KRAKEND_VERSION}, {"config", a.config}});
  log.log(main_lane, telemetry::LogLevel::info,
          "[SERVICE: api-gateway] Listening on port: " + std::to_string(server.port()),
          {{"port", static_cast<int>(server.port())},
           {"workers", static_cast<int>(workers)},
           {"io", "epoll"},
           {"telemetry", observability->summary()}});
  log.flush();
  int rc = server.run();
  log.log(main_lane, rc == 0 ? telemetry::LogLevel::info : telemetry::LogLevel::warning,
          rc == 0 ? "[SERVICE: api-gateway] shut down cleanly"
                  : "[SERVICE: api-gateway] shut down after max_shutdown_wait_time with requests in flight");
  observability->stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  if (!a.error.empty()) {
    std::cerr << "Error: " << a.error << "\n" << kUsage;
    return 255;
  }
  if (a.help || a.command.empty()) {
    std::cout << kUsage;
    return a.help ? 0 : 1;
  }
  if (a.command == "version") {
    std::cout << "api-gateway " << GATEWAY_KRAKEND_VERSION << " (KrakenD Version: " << GATEWAY_KRAKEND_VERSION
              << " compatible)\n";
    return 0;
  }
  if (a.command == "check") return check(a);
  if (a.command == "run") return run(a);
  std::cerr << "Error: unknown command \"" << a.command << "\" for \"api-gateway\"\n" << kUsage;
  return 255;
}

}  // namespace gw::app
