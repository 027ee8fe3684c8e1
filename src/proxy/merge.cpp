// KrakenD's merge of backend results and the status it answers with (docs/krakend-behavior.md
// §4.2 and §4.5), as pure functions.
#include "proxy/merge.h"

namespace gw::proxy {

Merged merge_results(std::vector<BackendResult>& results, const std::vector<std::size_t>& arrival,
                     std::size_t backend_count, const MergeRules& rules) {
  Merged m;
  m.data = json::Value::object();
  if (backend_count > 1) m.data.as_object().reserve(backend_count);  // one allocation for grouped backends
  m.complete = arrival.size() == backend_count;
  BackendResult* single_error = nullptr;
  for (std::size_t i : arrival) {
    BackendResult& r = results[i];
    if (!r.error.empty() && !r.ok) {
      m.has_error = true;
      m.complete = false;
      if (!m.errors.empty()) m.errors += '\n';
      m.errors += r.error;
      single_error = &r;
      continue;
    }
    if (!r.error.empty()) m.has_error = true;  // detailed error: data, but still an error
    if (!r.complete) m.complete = false;
    if (backend_count == 1) {
      m.data = std::move(r.data);
      m.has_data = true;
    } else if (response::merge(m.data, std::move(r.data))) {
      m.has_data = true;
    } else {
      m.complete = false;
    }
  }
  if (backend_count > 1 && m.has_data && rules.flatmap && !rules.flatmap->empty())
    response::apply_flatmap(m.data, *rules.flatmap);
  if (rules.static_data && response::static_applies(rules.static_data->strategy, m.has_data, m.has_error,
                                                    m.complete && m.has_data)) {
    if (!m.has_data) {
      m.data = json::Value::object();
      m.complete = false;
      m.has_data = true;
    }
    response::apply_static(m.data, *rules.static_data);
  }
  if (backend_count == 1 && single_error && single_error->error_status) {
    m.error_status = single_error->error_status;
    m.error_body = std::move(single_error->error_body);
    m.error_content_type = std::move(single_error->error_content_type);
  }
  return m;
}

Answer choose_answer(const Merged& merged, std::size_t backend_count) {
  Answer a;
  if (!merged.has_data) {
    a.is_error = true;
    a.status = 500;
    a.error_message = merged.errors;
    if (backend_count == 1 && merged.error_status) {
      a.status = merged.error_status;
      a.error_message = merged.error_body;
      a.error_content_type = merged.error_content_type;
    }
    return a;
  }
  // An empty object (or null) is not a completed response, even when every backend answered.
  const bool non_empty = merged.data.is_object() ? !merged.data.as_object().empty() : !merged.data.is_null();
  a.completed = merged.complete && non_empty;
  return a;
}

}  // namespace gw::proxy
