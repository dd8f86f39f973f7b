#include "install/set_path.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/yaml/convert.h"
#include "core/yaml/parser.h"
#include "install/spec_check.h"

namespace mesh::install {
namespace {

using core::schema::Type;
using core::schema::TypeKind;

Failure pathError(std::string_view text, std::string message) {
  return fail(ErrorCode::Usage, fmt::format("path \"{}\": {}", text, message),
              "write paths as a.b.c, with [N] or [key:value] for list items and \\. for a dot inside a key");
}

bool allDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// One bracket's content: "0" or "name:istio-ingressgateway".
Result<PathElement> bracket(std::string_view text, std::string_view inside) {
  PathElement e;
  if (allDigits(inside)) {
    e.kind = PathElement::Kind::Index;
    auto [ptr, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), e.index);
    if (ec != std::errc() || e.index > 100000)
      return pathError(text, fmt::format("index [{}] is out of range", inside));
    return e;
  }
  size_t colon = inside.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return pathError(text, fmt::format("[{}] selects nothing: use [N] or [key:value]", inside));
  e.kind = PathElement::Kind::Select;
  e.key = std::string(inside.substr(0, colon));
  e.value = std::string(inside.substr(colon + 1));
  return e;
}

std::string scalarText(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

bool goBool(std::string_view s, bool& out) {
  // Go's strconv.ParseBool, which istioctl types --set values with.
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (s == t) return out = true, true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (s == f) return out = false, true;
  return false;
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  std::string_view digits = s.starts_with('+') ? s.substr(1) : s;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::optional<double> parseNumber(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// `{a: b}` or `[x, y]` given for a map or list.
Result<nlohmann::json> parseFlow(const SetFlag& flag) {
  core::ParsedFile parsed = core::parseYaml("--set " + flag.text, flag.value);
  if (parsed.error) return fail(ErrorCode::Usage, parsed.error->format());
  if (parsed.documents.size() != 1)
    return fail(ErrorCode::Usage, fmt::format("--set {}: expected one value", flag.text));
  return core::toJson(*parsed.documents[0]);
}

// istioctl's typing, for values under free-form fields: integer, number, boolean, else string
// (with "\," standing for a comma).
nlohmann::json untypedValue(const std::string& s) {
  if (auto i = parseInt(s)) return *i;
  if (auto d = parseNumber(s)) return *d;
  bool b = false;
  if (goBool(s, b)) return b;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == ',') continue;
    out += s[i];
  }
  return out;
}

Result<nlohmann::json> typedValue(const Type* type, const SetFlag& flag) {
  const std::string& s = flag.value;
  auto wrong = [&](std::string_view what) {
    return fail(ErrorCode::Usage,
                fmt::format("--set {}: {} needs {}, not \"{}\"", flag.text, formatPath(flag.path), what, s));
  };
  bool flow = s.starts_with('{') || s.starts_with('[');
  if (!type || type->kind == TypeKind::Any) return flow ? parseFlow(flag) : Result<nlohmann::json>(untypedValue(s));
  switch (type->kind) {
    case TypeKind::String:
    case TypeKind::Duration:
    case TypeKind::Enum: return nlohmann::json(s);
    case TypeKind::Int32:
    case TypeKind::UInt32:
    case TypeKind::Int64:
      if (auto i = parseInt(s)) return nlohmann::json(*i);
      return wrong("an integer");
    case TypeKind::Bool: {
      bool b = false;
      if (goBool(s, b)) return nlohmann::json(b);
      return wrong("true or false");
    }
    case TypeKind::Double:
      if (auto d = parseNumber(s)) return nlohmann::json(*d);
      return wrong("a number");
    case TypeKind::Quantity:
    case TypeKind::IntOrString:
      if (auto i = parseInt(s)) return nlohmann::json(*i);
      return nlohmann::json(s);
    case TypeKind::List:
    case TypeKind::Map:
    case TypeKind::Object:
      if (flow) return parseFlow(flag);
      return wrong(type->kind == TypeKind::List ? "a list: [a, b], or set one item with [N]"
                                                : "a map: {key: value}, or set one field with .field");
    case TypeKind::Any: break;
  }
  return nlohmann::json(s);
}

// The schema type one element further down, or an error naming the element.
Result<const Type*> step(const Type* type, const PathElement& e, const std::string& where, const SetFlag& flag) {
  if (!type || type->kind == TypeKind::Any) return static_cast<const Type*>(nullptr);
  auto err = [&](std::string message) {
    return fail(ErrorCode::Usage, fmt::format("--set {}: {}", flag.text, message));
  };
  bool listStep = e.kind != PathElement::Kind::Key;
  if (type->kind == TypeKind::List) {
    if (!listStep) return err(fmt::format("{} is a list: select an item with [N] or [key:value]", where));
    return type->element;
  }
  if (listStep) return err(fmt::format("{} is {}, not a list", where, type->describe()));
  if (type->kind == TypeKind::Map) return type->element;
  if (type->kind != TypeKind::Object)
    return err(
        fmt::format("{} is {}: it has no field \"{}\"", where.empty() ? "spec" : where, type->describe(), e.key));
  if (const auto* f = type->field(e.key)) return f->type;
  std::vector<std::string> names;
  for (const auto& f : type->fields) names.push_back(f.name);
  return fail(ErrorCode::Usage,
              fmt::format("--set {}: unknown field \"{}\" in {}", flag.text, e.key, where.empty() ? "spec" : where),
              fmt::format("{} has: {}", where.empty() ? "spec" : where, fmt::join(names, ", ")));
}

}  // namespace

Result<Path> parsePath(std::string_view text) {
  Path path;
  std::string key;
  bool keyStarted = false;
  auto flushKey = [&]() -> Result<void> {
    if (!keyStarted) return {};
    if (key.empty()) return pathError(text, "empty element");
    PathElement e;
    e.key = std::move(key);
    path.push_back(std::move(e));
    key.clear();
    keyStarted = false;
    return {};
  };
  size_t i = 0;
  bool afterBracket = false;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\') {
      if (afterBracket) return pathError(text, "expected . or [ after ]");
      if (i + 1 >= text.size()) return pathError(text, "ends in a lone backslash");
      key += text[i + 1];
      keyStarted = true;
      i += 2;
      continue;
    }
    if (c == '.') {
      if (!keyStarted && !afterBracket) return pathError(text, "empty element");
      if (auto r = flushKey(); !r) return Failure(r.error());
      afterBracket = false;
      ++i;
      // "a.[0]" is istioctl's spelling of "a[0]".
      if (i >= text.size()) return pathError(text, "ends in a dot");
      if (text[i] != '[') keyStarted = true;
      continue;
    }
    if (c == '[') {
      if (auto r = flushKey(); !r) return Failure(r.error());
      size_t close = text.find(']', i);
      if (close == std::string_view::npos) return pathError(text, "[ without ]");
      auto e = bracket(text, text.substr(i + 1, close - i - 1));
      if (!e) return Failure(e.error());
      path.push_back(std::move(*e));
      i = close + 1;
      afterBracket = true;
      if (i < text.size() && text[i] != '.' && text[i] != '[') return pathError(text, "expected . or [ after ]");
      continue;
    }
    if (afterBracket) return pathError(text, "expected . or [ after ]");
    key += c;
    keyStarted = true;
    ++i;
  }
  if (auto r = flushKey(); !r) return Failure(r.error());
  if (path.empty()) return pathError(text, "empty path");
  return path;
}

std::string formatPath(const Path& path) {
  std::string out;
  for (const auto& e : path) {
    switch (e.kind) {
      case PathElement::Kind::Key: {
        if (!out.empty()) out += '.';
        for (char c : e.key) {
          if (c == '.' || c == '[' || c == '\\') out += '\\';
          out += c;
        }
        break;
      }
      case PathElement::Kind::Index: out += fmt::format("[{}]", e.index); break;
      case PathElement::Kind::Select: out += fmt::format("[{}:{}]", e.key, e.value); break;
    }
  }
  return out;
}

Result<SetFlag> parseSetFlag(std::string_view flag) {
  size_t eq = flag.find('=');
  if (eq == std::string_view::npos)
    return fail(ErrorCode::Usage, fmt::format("--set {}: expected path=value", flag),
                "for example --set values.global.hub=registry.example.com/mesh");
  auto path = parsePath(flag.substr(0, eq));
  if (!path) return Failure(path.error());
  return SetFlag{std::string(flag), std::move(*path), std::string(flag.substr(eq + 1))};
}

Result<void> applySetFlag(nlohmann::json& spec, const SetFlag& flag) {
  if (!spec.is_object()) spec = nlohmann::json::object();
  const Type* type = &operatorSpecType();
  nlohmann::json* node = &spec;
  Path walked;
  for (const auto& e : flag.path) {
    std::string where = formatPath(walked);
    auto next = step(type, e, where, flag);
    if (!next) return Failure(next.error());
    type = *next;
    walked.push_back(e);
    std::string here = formatPath(walked);
    switch (e.kind) {
      case PathElement::Kind::Key:
        if (node->is_null()) *node = nlohmann::json::object();
        if (!node->is_object())
          return fail(ErrorCode::Usage, fmt::format("--set {}: {} holds {}, not a map", flag.text,
                                                    where.empty() ? "spec" : where, node->dump()));
        node = &(*node)[e.key];
        break;
      case PathElement::Kind::Index:
        if (node->is_null()) *node = nlohmann::json::array();
        if (!node->is_array())
          return fail(ErrorCode::Usage, fmt::format("--set {}: {} is not a list", flag.text, where));
        if (e.index > node->size())
          return fail(ErrorCode::Usage,
                      fmt::format("--set {}: {} has {} item(s): use an index up to {} (which appends)", flag.text,
                                  where, node->size(), node->size()));
        if (e.index == node->size()) node->push_back(nlohmann::json::object());
        node = &(*node)[e.index];
        break;
      case PathElement::Kind::Select: {
        nlohmann::json* found = nullptr;
        if (node->is_array())
          for (auto& item : *node)
            if (item.is_object() && item.contains(e.key) && scalarText(item[e.key]) == e.value) found = &item;
        if (!found)
          return fail(ErrorCode::Usage,
                      fmt::format("--set {}: no item of {} has {}: {}", flag.text, where, e.key, e.value));
        node = found;
        break;
      }
    }
  }
  auto value = typedValue(type, flag);
  if (!value) return Failure(value.error());
  if (type) {
    core::Diagnostics findings = checkValue(*type, *value, formatPath(flag.path));
    if (!findings.empty())
      return fail(ErrorCode::Usage, fmt::format("--set {}: {}", flag.text, findings.front().format()));
  }
  *node = std::move(*value);
  return {};
}

Result<nlohmann::json> lookupPath(const nlohmann::json& spec, const Path& path) {
  const nlohmann::json* node = &spec;
  Path walked;
  for (const auto& e : path) {
    const nlohmann::json* next = nullptr;
    switch (e.kind) {
      case PathElement::Kind::Key:
        if (node->is_object() && node->contains(e.key)) next = &(*node)[e.key];
        break;
      case PathElement::Kind::Index:
        if (node->is_array() && e.index < node->size()) next = &(*node)[e.index];
        break;
      case PathElement::Kind::Select:
        if (node->is_array())
          for (const auto& item : *node)
            if (item.is_object() && item.contains(e.key) && scalarText(item[e.key]) == e.value) next = &item;
        break;
    }
    walked.push_back(e);
    if (!next) return fail(ErrorCode::NotFound, fmt::format("nothing at {}", formatPath(walked)));
    node = next;
  }
  return *node;
}

}  // namespace mesh::install
