#include "analyzers/message.h"

#include <fmt/format.h>

namespace mesh::analysis {
namespace {

std::string quoteGo(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string render(const Arg& arg, char verb) {
  if (const auto* s = std::get_if<std::string>(&arg)) return verb == 'q' ? quoteGo(*s) : *s;
  if (const auto* i = std::get_if<int64_t>(&arg)) return std::to_string(*i);
  const auto& list = std::get<std::vector<std::string>>(arg);
  std::string out = "[";
  for (size_t k = 0; k < list.size(); ++k) {
    if (k) out += ' ';
    out += verb == 'q' ? quoteGo(list[k]) : list[k];
  }
  return out + "]";
}

}  // namespace

std::string formatGo(std::string_view format, const std::vector<Arg>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%' || i + 1 == format.size()) {
      out += c;
      continue;
    }
    char verb = format[++i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (next < args.size()) out += render(args[next++], verb);
    else out += fmt::format("%!{}(MISSING)", verb);  // what Go prints
  }
  return out;
}

std::string Message::text() const { return formatGo(type->format, args); }

std::string Message::reference() const {
  if (file.empty()) return {};
  return line ? fmt::format("{}:{}", file, line) : file;
}

}  // namespace mesh::analysis
