// Private to the proxy module: what the backends of a JSON endpoint produced, and how KrakenD turns
// those results into one response (merge in arrival order, partial responses, static data, the
// status). Pure functions of their inputs, so they are tested with fake backend results.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json/json.h"
#include "response/response.h"

namespace gw::proxy {

// What one backend call produced.
struct BackendResult {
  bool ok = false;        // data is usable (success, or a return_error_details object)
  bool complete = false;  // success with a complete body
  json::Value data;
  std::string error;          // KrakenD error text when !ok, or a detailed error
  unsigned error_status = 0;  // backend status carried by return_error_code
  std::string error_body;
  std::string error_content_type;
};

// The endpoint-level operations applied to the merged data.
struct MergeRules {
  const std::vector<response::FlatmapOp>* flatmap = nullptr;  // multi-backend only
  const response::StaticConfig* static_data = nullptr;        // proxy.static
};

// The merged answer of the proxy stage.
struct Merged {
  json::Value data;
  bool has_data = false;
  bool complete = false;   // every backend answered completely
  bool has_error = false;  // some backend failed (a detailed error counts)
  std::string errors;      // their texts, one per line, in arrival order
  // With one backend that failed without data: its status, body and content type for
  // return_error_code (status 0 when not carried).
  unsigned error_status = 0;
  std::string error_body, error_content_type;
};

// Merges `results` (one per backend, `backend_count` configured) in `arrival` order (Lura's merge):
// a failed backend makes the response incomplete, a null body is skipped, colliding keys are
// overwritten by the later arrival; then flatmap and static data.
Merged merge_results(std::vector<BackendResult>& results, const std::vector<std::size_t>& arrival,
                     std::size_t backend_count, const MergeRules& rules);

// How the endpoint answers a merge (KrakenD's default render): 200 with data, or an error status
// (500, or the backend's own with return_error_code on a single backend) and its body.
struct Answer {
  unsigned status = 200;
  bool completed = false;  // X-Krakend-Completed: true (and Cache-Control may be sent)
  bool is_error = false;   // no data: write_error's shape
  std::string error_message, error_content_type;
};
Answer choose_answer(const Merged& merged, std::size_t backend_count);

}  // namespace gw::proxy
