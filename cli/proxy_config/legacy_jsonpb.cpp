// A port of golang/protobuf v1.5 jsonpb/encode.go (jsonWriter), reading messages through C++
// reflection. Comments name the Go functions.
#include "cli/proxy_config/legacy_jsonpb.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cmath>

#include "cli/proxy_config/go_format.h"
#include "cli/proxy_config/json_value.h"
#include "cli/proxy_config/proto_json.h"
#include "cli/proxy_config/type_registry.h"

namespace mesh::cli::pc {
namespace {

namespace gp = google::protobuf;
using FD = gp::FieldDescriptor;

std::string trimZeros(std::string x) {
  for (int k = 0; k < 2; ++k)
    if (x.size() >= 3 && x.compare(x.size() - 3, 3, "000") == 0) x.resize(x.size() - 3);
  if (x.size() >= 4 && x.compare(x.size() - 4, 4, ".000") == 0) x.resize(x.size() - 4);
  return x;
}

class Writer {
 public:
  explicit Writer(std::string_view indent) : unit_(indent) {}
  std::string buf;

  void marshalMessage(const gp::Message& m, const std::string& indent, const std::string& typeUrl) {
    const gp::Descriptor* d = m.GetDescriptor();
    const gp::Reflection* r = m.GetReflection();
    std::string_view wkt = wellKnownType(d);
    if (wkt == "Any") return marshalAny(m, indent);
    if (wkt == "BoolValue" || wkt == "BytesValue" || wkt == "StringValue" || wkt == "Int32Value" ||
        wkt == "UInt32Value" || wkt == "FloatValue" || wkt == "Int64Value" || wkt == "UInt64Value" ||
        wkt == "DoubleValue")
      return marshalValue(m, d->FindFieldByNumber(1), indent);
    if (wkt == "Duration") {
      int64_t s = r->GetInt64(m, d->FindFieldByNumber(1));
      int64_t ns = r->GetInt32(m, d->FindFieldByNumber(2));
      if (s < 0) ns = -ns;
      buf += fmt::format("\"{}s\"", trimZeros(fmt::format("{}.{:09d}", s, ns)));
      return;
    }
    if (wkt == "Timestamp") {
      buf +=
          '"' + formatTimestamp(r->GetInt64(m, d->FindFieldByNumber(1)), r->GetInt32(m, d->FindFieldByNumber(2))) + '"';
      return;
    }
    if (wkt == "Value") {
      const FD* set = r->GetOneofFieldDescriptor(m, d->oneof_decl(0));
      if (set == nullptr) {
        buf += "null";  // Go fails with "nil Value"
        return;
      }
      return marshalValue(m, set, indent);
    }
    if (wkt == "Struct" || wkt == "ListValue") return marshalValue(m, d->FindFieldByNumber(1), indent);

    buf += '{';
    if (indenting()) buf += '\n';
    bool firstField = true;
    if (!typeUrl.empty()) {
      marshalTypeUrl(indent, typeUrl);
      firstField = false;
    }
    for (int i = 0; i < d->field_count();) {
      const FD* fd = d->field(i);
      if (const gp::OneofDescriptor* od = fd->containing_oneof()) {
        fd = nullptr;
        for (int k = 0; k < od->field_count(); ++k)
          if (r->HasField(m, od->field(k))) fd = od->field(k);
        i += od->field_count();
        if (fd == nullptr) continue;
      } else {
        ++i;
        if (fd->is_repeated() ? r->FieldSize(m, fd) == 0 : !r->HasField(m, fd)) continue;
      }
      if (!firstField) writeComma();
      marshalField(m, fd, indent);
      firstField = false;
    }
    if (indenting()) {
      buf += '\n';
      buf += indent;
    }
    buf += '}';
  }

 private:
  bool indenting() const { return !unit_.empty(); }

  void writeComma() { buf += indenting() ? ",\n" : ","; }

  void marshalAny(const gp::Message& any, const std::string& indent) {
    const gp::Descriptor* d = any.GetDescriptor();
    const gp::Reflection* r = any.GetReflection();
    std::string typeUrl = r->GetString(any, d->FindFieldByNumber(1));
    std::string raw = r->GetString(any, d->FindFieldByNumber(2));
    std::unique_ptr<gp::Message> inner = TypeRegistry::instance().newMessage(typeUrl);
    if (inner == nullptr || !inner->ParseFromString(raw)) {
      // Go fails to resolve the type; meshctl prints the members it was read with.
      JsonValue obj = JsonValue::object();
      obj.add("@type", JsonValue::string(typeUrl));
      if (auto kept = TypeRegistry::instance().unknownAnyJson(typeUrl, raw)) {
        if (auto members = parseJson(*kept); members && members->kind == JsonValue::Kind::Object)
          for (auto& member : members->members) obj.members.push_back(std::move(member));
      }
      if (!indenting()) {
        buf += toIndentedJson(obj, "", GoEscape::EncodingJson);  // newlines are harmless, but keep it compact
        return;
      }
      buf += toIndentedJson(obj, unit_, GoEscape::EncodingJson, static_cast<int>(indent.size() / unit_.size()));
      return;
    }
    if (wellKnownType(inner->GetDescriptor()).empty()) return marshalMessage(*inner, indent, typeUrl);
    buf += '{';
    if (indenting()) buf += '\n';
    marshalTypeUrl(indent, typeUrl);
    writeComma();
    if (indenting()) {
      buf += indent;
      buf += unit_;
      buf += "\"value\": ";
    } else {
      buf += "\"value\":";
    }
    marshalMessage(*inner, indent + unit_, "");
    if (indenting()) {
      buf += '\n';
      buf += indent;
    }
    buf += '}';
  }

  void marshalTypeUrl(const std::string& indent, const std::string& typeUrl) {
    if (indenting()) {
      buf += indent;
      buf += unit_;
    }
    buf += "\"@type\":";
    if (indenting()) buf += ' ';
    buf += goQuote(typeUrl, GoEscape::EncodingJson);
  }

  void marshalField(const gp::Message& m, const FD* fd, const std::string& indent) {
    if (indenting()) {
      buf += indent;
      buf += unit_;
    }
    buf += '"';
    buf += fd->json_name();
    buf += "\":";
    if (indenting()) buf += ' ';
    marshalValue(m, fd, indent);
  }

  void marshalValue(const gp::Message& m, const FD* fd, const std::string& indent) {
    const gp::Reflection* r = m.GetReflection();
    if (fd->is_map()) {
      const FD* valueFd = fd->message_type()->map_value();
      std::vector<MapEntryRef> entries = sortedMapEntries(m, fd);
      buf += '{';
      const char* comma = "";
      for (const auto& e : entries) {
        buf += comma;
        if (indenting()) {
          buf += '\n';
          buf += indent;
          buf += unit_;
          buf += unit_;
        }
        buf += goQuote(e.key, GoEscape::EncodingJson);
        buf += ':';
        if (indenting()) buf += ' ';
        marshalSingular(*e.entry, valueFd, -1, indent + unit_);
        comma = ",";
      }
      if (indenting()) {
        buf += '\n';
        buf += indent;
        buf += unit_;
      }
      buf += '}';
      return;
    }
    if (fd->is_repeated()) {
      buf += '[';
      const char* comma = "";
      for (int i = 0, n = r->FieldSize(m, fd); i < n; ++i) {
        buf += comma;
        if (indenting()) {
          buf += '\n';
          buf += indent;
          buf += unit_;
          buf += unit_;
        }
        marshalSingular(m, fd, i, indent + unit_);
        comma = ",";
      }
      if (indenting()) {
        buf += '\n';
        buf += indent;
        buf += unit_;
      }
      buf += ']';
      return;
    }
    marshalSingular(m, fd, -1, indent);
  }

  void marshalSingular(const gp::Message& m, const FD* fd, int index, const std::string& indent) {
    const gp::Reflection* r = m.GetReflection();
    bool rep = index >= 0;
    auto writeFloat = [&](double v, int bits) {
      if (std::isnan(v))
        buf += "\"NaN\"";
      else if (std::isinf(v))
        buf += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      else
        buf += goJsonFloat(v, bits);
    };
    switch (fd->cpp_type()) {
      case FD::CPPTYPE_MESSAGE:
        marshalMessage(rep ? r->GetRepeatedMessage(m, fd, index) : r->GetMessage(m, fd), indent + unit_, "");
        return;
      case FD::CPPTYPE_ENUM: {
        if (fd->enum_type()->full_name() == "google.protobuf.NullValue") {
          buf += "null";
          return;
        }
        int number = rep ? r->GetRepeatedEnumValue(m, fd, index) : r->GetEnumValue(m, fd);
        const gp::EnumValueDescriptor* ev = fd->enum_type()->FindValueByNumber(number);
        buf += ev ? '"' + ev->name() + '"' : std::to_string(number);
        return;
      }
      case FD::CPPTYPE_FLOAT:
        writeFloat(rep ? r->GetRepeatedFloat(m, fd, index) : r->GetFloat(m, fd), 32);
        return;
      case FD::CPPTYPE_DOUBLE:
        writeFloat(rep ? r->GetRepeatedDouble(m, fd, index) : r->GetDouble(m, fd), 64);
        return;
      case FD::CPPTYPE_INT64:
        buf += '"' + std::to_string(rep ? r->GetRepeatedInt64(m, fd, index) : r->GetInt64(m, fd)) + '"';
        return;
      case FD::CPPTYPE_UINT64:
        buf += '"' + std::to_string(rep ? r->GetRepeatedUInt64(m, fd, index) : r->GetUInt64(m, fd)) + '"';
        return;
      case FD::CPPTYPE_INT32:
        buf += std::to_string(rep ? r->GetRepeatedInt32(m, fd, index) : r->GetInt32(m, fd));
        return;
      case FD::CPPTYPE_UINT32:
        buf += std::to_string(rep ? r->GetRepeatedUInt32(m, fd, index) : r->GetUInt32(m, fd));
        return;
      case FD::CPPTYPE_BOOL:
        buf += (rep ? r->GetRepeatedBool(m, fd, index) : r->GetBool(m, fd)) ? "true" : "false";
        return;
      case FD::CPPTYPE_STRING: {
        std::string s = rep ? r->GetRepeatedString(m, fd, index) : r->GetString(m, fd);
        buf += goQuote(fd->type() == FD::TYPE_BYTES ? base64Encode(s) : s, GoEscape::EncodingJson);
        return;
      }
    }
  }

  std::string unit_;
};

}  // namespace

std::string legacyJsonpb(const gp::Message& message, std::string_view indent) {
  Writer w(indent);
  w.marshalMessage(message, "", "");
  return std::move(w.buf);
}

}  // namespace mesh::cli::pc
