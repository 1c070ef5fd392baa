// Renderings of OSProfiler's report (<osprof/report.hpp>) for people: an indented text tree,
// Graphviz DOT, a self-contained HTML page and Chrome/Perfetto trace events. CMake target
// osprof::render; the core (osprof::osprof) has only the report's JSON.
#pragma once

#include <string>

#include <osprof/report.hpp>

namespace osprof {
inline namespace v1 {

/// An indented text tree: name, service, duration and start offset per point, errors marked.
std::string render_tree(const report& r, bool color = false);
/// Graphviz DOT, as OSProfiler's --dot (labels "service:name - N ms").
std::string render_dot(const report& r);
/// A self-contained HTML page (no CDN): a collapsible tree with duration bars and details.
std::string render_html(const report& r);
/// Chrome/Perfetto trace-event JSON (opens in ui.perfetto.dev and chrome://tracing).
std::string render_chrome(const report& r);

}  // namespace v1
}  // namespace osprof
