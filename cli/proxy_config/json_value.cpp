#include "cli/proxy_config/json_value.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace mesh::cli::pc {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when it is invalid.
size_t utf8Length(std::string_view s, size_t i, char32_t& rune) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  rune = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    rune = (rune << 6) | (cc & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (rune < kMin[n] || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return 0;
  return n;
}

void indentedJson(std::string& out, const JsonValue& v, std::string_view indent, GoEscape style, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    for (int i = 0; i < d; ++i) out += indent;
  };
  switch (v.kind) {
    case JsonValue::Kind::Null:
      out += "null";
      return;
    case JsonValue::Kind::Bool:
      out += v.boolean ? "true" : "false";
      return;
    case JsonValue::Kind::Number:
      out += v.text;
      return;
    case JsonValue::Kind::String:
      out += goQuote(v.text, style);
      return;
    case JsonValue::Kind::Array:
      if (v.items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out += ',';
        newline(depth + 1);
        indentedJson(out, v.items[i], indent, style, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    case JsonValue::Kind::Object:
      if (v.members.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i > 0) out += ',';
        newline(depth + 1);
        out += goQuote(v.members[i].first, style);
        out += ": ";
        indentedJson(out, v.members[i].second, indent, style, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
  }
}

// Builds a JsonValue from nlohmann's SAX events, keeping the text of floating-point numbers.
class TreeBuilder : public nlohmann::json::json_sax_t {
 public:
  bool null() override { return put(JsonValue::null()); }
  bool boolean(bool b) override { return put(JsonValue::boolean_(b)); }
  bool number_integer(number_integer_t n) override { return put(JsonValue::number(std::to_string(n))); }
  bool number_unsigned(number_unsigned_t n) override { return put(JsonValue::number(std::to_string(n))); }
  bool number_float(number_float_t, const string_t& s) override { return put(JsonValue::number(s)); }
  bool string(string_t& s) override { return put(JsonValue::string(std::move(s))); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    stack_.push_back(JsonValue::object());
    return true;
  }
  bool key(string_t& k) override {
    keys_.push_back(std::move(k));
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    stack_.push_back(JsonValue::array());
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& ex) override {
    error_ = ex.what();
    return false;
  }

  JsonValue root;
  std::string error_;

 private:
  bool put(JsonValue v) {
    if (stack_.empty()) {
      root = std::move(v);
    } else if (stack_.back().kind == JsonValue::Kind::Array) {
      stack_.back().push(std::move(v));
    } else {
      stack_.back().add(std::move(keys_.back()), std::move(v));
      keys_.pop_back();
    }
    return true;
  }
  bool close() {
    JsonValue done = std::move(stack_.back());
    stack_.pop_back();
    return put(std::move(done));
  }

  std::vector<JsonValue> stack_;
  std::vector<std::string> keys_;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

std::string goQuote(std::string_view s, GoEscape style) {
  bool html = style != GoEscape::ProtoJson;
  bool del = style != GoEscape::EncodingJson;
  bool lineSeparators = style != GoEscape::ProtoJson;
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || (del && c == 0x7f) || (html && (c == '<' || c == '>' || c == '&'))) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    char32_t rune = 0;
    size_t n = utf8Length(s, i, rune);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (lineSeparators && (rune == 0x2028 || rune == 0x2029)) {
      out += rune == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out += '"';
  return out;
}

std::string toIndentedJson(const JsonValue& value, std::string_view indent, GoEscape style, int depth) {
  std::string out;
  indentedJson(out, value, indent, style, depth);
  return out;
}

Result<JsonValue> parseJson(std::string_view text) {
  TreeBuilder builder;
  bool ok = nlohmann::json::sax_parse(text, &builder);
  if (!ok) return fail(ErrorCode::InvalidInput, builder.error_.empty() ? "invalid JSON" : builder.error_);
  return std::move(builder.root);
}

}  // namespace mesh::cli::pc
