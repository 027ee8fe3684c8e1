// Telemetry module: KrakenD-compatible Prometheus metrics, Datadog/OTLP tracing, JSON logging.
#pragma once

#include "telemetry/logging.h"
#include "telemetry/metrics.h"
#include "telemetry/metrics_server.h"
#include "telemetry/tracing.h"
