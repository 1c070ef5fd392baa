#include "bench_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string_view>
#include <utility>

#include "bench_format.hpp"

namespace osprof::cli {

namespace {

// For SVG text and attribute values: XML's special characters as entities, and the control
// characters XML 1.0 does not allow left out.
std::string escape_xml(std::string_view text) {
  static constexpr std::pair<char, std::string_view> entities[] = {
      {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}};
  std::string out;
  for (const char c : text) {
    const auto* e = std::find_if(std::begin(entities), std::end(entities), [c](const auto& p) { return p.first == c; });
    if (e != std::end(entities)) {
      out += e->second;
    } else if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') {
      out += c;
    }
  }
  return out;
}

// A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above `v`.
double nice_ceiling(double v) {
  if (v <= 0) return 1.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (step * magnitude >= v) return step * magnitude;
  }
  return 10.0 * magnitude;
}

std::string fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c, d);
  return buf;
}

}  // namespace

std::string sweep_chart_svg(const std::string& title, const std::string& setting,
                            const std::vector<sweep_point>& points) {
  constexpr double width = 760, height = 440;
  constexpr double left = 90, right = 90, top = 60, bottom = 70;
  constexpr double plot_w = width - left - right, plot_h = height - top - bottom;
  constexpr int ticks = 5;
  const char* throughput_colour = "#1f77b4";
  const char* latency_colour = "#d62728";

  double max_throughput = 0, max_latency = 0;
  for (const auto& p : points) {
    max_throughput = std::max(max_throughput, p.throughput);
    max_latency = std::max(max_latency, p.p99_ns);
  }
  const double y_left_max = nice_ceiling(max_throughput);
  const double y_right_max = nice_ceiling(max_latency);
  // Categorical x axis: the swept values evenly spaced, in the order given.
  const auto x_of = [&](std::size_t i) {
    return points.size() <= 1 ? left + plot_w / 2
                              : left + plot_w * (0.05 + 0.9 * static_cast<double>(i) / static_cast<double>(points.size() - 1));
  };
  const auto y_of = [&](double v, double max) { return top + plot_h * (1.0 - v / max); };

  std::string svg;
  svg += fmt("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
             "font-family=\"sans-serif\" font-size=\"12\">\n",
             width, height, width, height);
  svg += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += fmt("<text x=\"%g\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">", width / 2) +
         escape_xml(title) + "</text>\n";

  // Grid and both y axes' tick labels.
  for (int t = 0; t <= ticks; ++t) {
    const double frac = static_cast<double>(t) / ticks;
    const double y = top + plot_h * (1.0 - frac);
    svg += fmt("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#dddddd\"/>\n", left, y, left + plot_w, y);
    svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"end\" fill=\"", left - 8, y + 4) + throughput_colour + "\">" +
           si(y_left_max * frac) + "</text>\n";
    svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"start\" fill=\"", left + plot_w + 8, y + 4) + latency_colour +
           "\">" + si(y_right_max * frac) + "</text>\n";
  }
  svg += fmt("<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#333333\"/>\n", left, top,
             plot_w, plot_h);

  // x tick labels: the swept values.
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double x = x_of(i);
    svg += fmt("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333333\"/>\n", x, top + plot_h, x,
               top + plot_h + 5);
    svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", x, top + plot_h + 20) +
           escape_xml(points[i].setting_value) + "</text>\n";
  }

  // Axis titles.
  svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", left + plot_w / 2, height - 20) +
          escape_xml(setting) + "</text>\n";
  svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\" fill=\"", 22, top + plot_h / 2) + throughput_colour +
         fmt("\" transform=\"rotate(-90 %g %g)\">throughput (events written/s)</text>\n", 22, top + plot_h / 2);
  svg += fmt("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\" fill=\"", width - 22, top + plot_h / 2) + latency_colour +
         fmt("\" transform=\"rotate(90 %g %g)\">p99 emit latency per span (ns)</text>\n", width - 22, top + plot_h / 2);

  // The two series: a polyline and a marker per point.
  const auto series = [&](bool throughput, const char* colour) {
    std::string line = "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(colour) + "\" points=\"";
    std::string markers;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const double v = throughput ? points[i].throughput : points[i].p99_ns;
      const double x = x_of(i), y = y_of(v, throughput ? y_left_max : y_right_max);
      line += fmt("%.1f,%.1f ", x, y);
      markers += throughput ? fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"", x, y)
                            : fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"", x - 4, y - 4);
      markers += std::string(colour) + "\"><title>" + escape_xml(points[i].setting_value) + ": " + si(v) +
                 (throughput ? " events/s" : " ns") + "</title></" + (throughput ? "circle" : "rect") + ">\n";
    }
    if (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\"/>\n" + markers;
  };
  svg += series(true, throughput_colour);
  svg += series(false, latency_colour);

  // Legend.
  svg += fmt("<circle cx=\"%g\" cy=\"44\" r=\"4\" fill=\"", left + 10) + throughput_colour + "\"/>";
  svg += fmt("<text x=\"%g\" y=\"48\">throughput (left axis)</text>\n", left + 20);
  svg += fmt("<rect x=\"%g\" y=\"40\" width=\"8\" height=\"8\" fill=\"", left + 200) + latency_colour + "\"/>";
  svg += fmt("<text x=\"%g\" y=\"48\">p99 emit latency (right axis)</text>\n", left + 214);
  svg += "</svg>\n";
  return svg;
}

}  // namespace osprof::cli
