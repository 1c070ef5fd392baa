// The report as JSON: render_json() writes exactly what `osprofiler trace show --json` prints
// (json.dumps(indent=2, separators=(",", ": ")), ensure_ascii), with json_renderer
// (json_render.hpp). Reading such a file back is report_json_read.cpp.
#include <string>

#include <osprof/report.hpp>
#include "report/json_render.hpp"
#include "report/report_internal.hpp"

namespace osprof {
inline namespace v1 {

using namespace detail;  // report_impl and the text helpers

namespace {

std::size_t estimate_size(const report& r, int indent) {
  std::size_t size = 256 + r.stats.size() * 64;
  report_impl::for_each_preorder(r.children, [&](const report_node& n, std::size_t depth, bool) {
    size += 320 + n.name.size() + n.project.size() + n.service.size() + n.host.size();
    size += (depth + 2) * static_cast<std::size_t>(indent) * 24;
    // Re-indenting a stored event roughly adds its size again (one line per value).
    for (const auto& p : n.raw_payloads) size += p.first.size() + p.second.size() * 2 + 40;
  });
  return size;
}

}  // namespace

std::string render_json(const report& r, int indent) {
  if (indent < 0) indent = 0;
  std::string out;
  out.reserve(estimate_size(r, indent));
  const report_impl::report_tree tree(r);
  report_impl::json_renderer<report_impl::report_tree>(tree, indent, out).run();
  return out;
}

void render_json(const report& r, int indent, const text_sink& write) {
  report_impl::render_json_pieces(report_impl::report_tree(r), indent, write);
}

}  // namespace v1
}  // namespace osprof
