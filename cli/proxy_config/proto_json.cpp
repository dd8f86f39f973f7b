#include "cli/proxy_config/proto_json.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "cli/proxy_config/go_format.h"
#include "cli/proxy_config/type_registry.h"

namespace mesh::cli::pc {
namespace {

namespace gp = google::protobuf;
using FD = gp::FieldDescriptor;

std::string trimFraction(std::string x) {
  for (int k = 0; k < 2; ++k)
    if (x.size() >= 3 && x.compare(x.size() - 3, 3, "000") == 0) x.resize(x.size() - 3);
  if (x.size() >= 4 && x.compare(x.size() - 4, 4, ".000") == 0) x.resize(x.size() - 4);
  return x;
}

JsonValue floatJson(double v, int bits) {
  if (std::isnan(v)) return JsonValue::string("NaN");
  if (std::isinf(v)) return JsonValue::string(v > 0 ? "Infinity" : "-Infinity");
  return JsonValue::number(goJsonFloat(v, bits));
}

// Dotted snake_case path to lowerCamel, as protojson writes FieldMask paths.
std::string camelPath(const std::string& path) {
  std::string out;
  bool upper = false;
  for (char c : path) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

JsonValue messageJson(const gp::Message& m);

JsonValue singleValue(const gp::Message& m, const FD* fd, int index) {
  const gp::Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (fd->cpp_type()) {
    case FD::CPPTYPE_INT32:
      return JsonValue::number(std::to_string(rep ? r->GetRepeatedInt32(m, fd, index) : r->GetInt32(m, fd)));
    case FD::CPPTYPE_UINT32:
      return JsonValue::number(std::to_string(rep ? r->GetRepeatedUInt32(m, fd, index) : r->GetUInt32(m, fd)));
    case FD::CPPTYPE_INT64:
      return JsonValue::string(std::to_string(rep ? r->GetRepeatedInt64(m, fd, index) : r->GetInt64(m, fd)));
    case FD::CPPTYPE_UINT64:
      return JsonValue::string(std::to_string(rep ? r->GetRepeatedUInt64(m, fd, index) : r->GetUInt64(m, fd)));
    case FD::CPPTYPE_FLOAT:
      return floatJson(rep ? r->GetRepeatedFloat(m, fd, index) : r->GetFloat(m, fd), 32);
    case FD::CPPTYPE_DOUBLE:
      return floatJson(rep ? r->GetRepeatedDouble(m, fd, index) : r->GetDouble(m, fd), 64);
    case FD::CPPTYPE_BOOL:
      return JsonValue::boolean_(rep ? r->GetRepeatedBool(m, fd, index) : r->GetBool(m, fd));
    case FD::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, fd, index) : r->GetString(m, fd);
      return fd->type() == FD::TYPE_BYTES ? JsonValue::string(base64Encode(s)) : JsonValue::string(std::move(s));
    }
    case FD::CPPTYPE_ENUM: {
      if (fd->enum_type()->full_name() == "google.protobuf.NullValue") return JsonValue::null();
      int number = rep ? r->GetRepeatedEnumValue(m, fd, index) : r->GetEnumValue(m, fd);
      const gp::EnumValueDescriptor* ev = fd->enum_type()->FindValueByNumber(number);
      return ev ? JsonValue::string(ev->name()) : JsonValue::number(std::to_string(number));
    }
    case FD::CPPTYPE_MESSAGE:
      return messageJson(rep ? r->GetRepeatedMessage(m, fd, index) : r->GetMessage(m, fd));
  }
  return JsonValue::null();
}

JsonValue mapJson(const gp::Message& m, const FD* fd) {
  const FD* valueFd = fd->message_type()->map_value();
  JsonValue obj = JsonValue::object();
  for (const auto& e : sortedMapEntries(m, fd)) obj.add(e.key, singleValue(*e.entry, valueFd, -1));
  return obj;
}

JsonValue fieldJson(const gp::Message& m, const FD* fd) {
  if (fd->is_map()) return mapJson(m, fd);
  if (fd->is_repeated()) {
    JsonValue arr = JsonValue::array();
    for (int i = 0, n = m.GetReflection()->FieldSize(m, fd); i < n; ++i) arr.push(singleValue(m, fd, i));
    return arr;
  }
  return singleValue(m, fd, -1);
}

bool isSet(const gp::Message& m, const FD* fd) {
  const gp::Reflection* r = m.GetReflection();
  return fd->is_repeated() ? r->FieldSize(m, fd) > 0 : r->HasField(m, fd);
}

JsonValue plainMessageJson(const gp::Message& m) {
  JsonValue obj = JsonValue::object();
  const gp::Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FD* fd = d->field(i);
    if (isSet(m, fd)) obj.add(fd->json_name(), fieldJson(m, fd));
  }
  return obj;
}

JsonValue anyJson(const gp::Message& any) {
  const gp::Descriptor* d = any.GetDescriptor();
  const gp::Reflection* r = any.GetReflection();
  std::string typeUrl = r->GetString(any, d->FindFieldByNumber(1));
  std::string value = r->GetString(any, d->FindFieldByNumber(2));
  JsonValue obj = JsonValue::object();
  if (typeUrl.empty()) return obj;
  obj.add("@type", JsonValue::string(typeUrl));
  std::unique_ptr<gp::Message> inner = TypeRegistry::instance().newMessage(typeUrl);
  if (inner == nullptr) {
    // A type meshctl does not know: print the members it was read with.
    if (auto kept = TypeRegistry::instance().unknownAnyJson(typeUrl, value)) {
      if (auto members = parseJson(*kept); members && members->kind == JsonValue::Kind::Object)
        for (auto& member : members->members) obj.members.push_back(std::move(member));
    }
    return obj;
  }
  if (!inner->ParseFromString(value)) return obj;
  if (!wellKnownType(inner->GetDescriptor()).empty()) {
    obj.add("value", messageJson(*inner));
    return obj;
  }
  JsonValue fields = plainMessageJson(*inner);
  for (auto& member : fields.members) obj.members.push_back(std::move(member));
  return obj;
}

JsonValue messageJson(const gp::Message& m) {
  const gp::Descriptor* d = m.GetDescriptor();
  const gp::Reflection* r = m.GetReflection();
  std::string_view wkt = wellKnownType(d);
  if (wkt.empty() || wkt == "Empty") return plainMessageJson(m);
  if (wkt == "Any") return anyJson(m);
  if (wkt == "Duration")
    return JsonValue::string(
        formatDuration(r->GetInt64(m, d->FindFieldByNumber(1)), r->GetInt32(m, d->FindFieldByNumber(2))));
  if (wkt == "Timestamp")
    return JsonValue::string(
        formatTimestamp(r->GetInt64(m, d->FindFieldByNumber(1)), r->GetInt32(m, d->FindFieldByNumber(2))));
  if (wkt == "FieldMask") {
    std::string joined;
    const FD* paths = d->FindFieldByNumber(1);
    for (int i = 0; i < r->FieldSize(m, paths); ++i) {
      if (i > 0) joined += ',';
      joined += camelPath(r->GetRepeatedString(m, paths, i));
    }
    return JsonValue::string(joined);
  }
  if (wkt == "Struct") return mapJson(m, d->FindFieldByNumber(1));
  if (wkt == "ListValue") return fieldJson(m, d->FindFieldByNumber(1));
  if (wkt == "Value") {
    const gp::FieldDescriptor* set = r->GetOneofFieldDescriptor(m, d->oneof_decl(0));
    return set == nullptr ? JsonValue::null() : fieldJson(m, set);
  }
  return singleValue(m, d->FindFieldByNumber(1), -1);  // wrappers
}

}  // namespace

std::string_view wellKnownType(const gp::Descriptor* descriptor) {
  static constexpr std::string_view kNames[] = {"Empty",       "Any",         "BoolValue",  "BytesValue", "StringValue",
                                                "Int32Value",  "UInt32Value", "FloatValue", "Int64Value", "UInt64Value",
                                                "DoubleValue", "Duration",    "Timestamp",  "Struct",     "Value",
                                                "ListValue",   "FieldMask"};
  if (descriptor->file()->package() != "google.protobuf") return {};
  for (std::string_view name : kNames)
    if (descriptor->name() == name) return name;
  return {};
}

std::string formatDuration(int64_t seconds, int32_t nanos) {
  const char* sign = "";
  int64_t ns = nanos;
  if (seconds < 0 || ns < 0) {
    sign = "-";
    seconds = -seconds;
    ns = -ns;
  }
  return trimFraction(fmt::format("{}{}.{:09d}", sign, seconds, ns)) + "s";
}

std::string formatTimestamp(int64_t seconds, int32_t nanos) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string x = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:09d}", tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return trimFraction(x) + "Z";
}

JsonValue protoToJson(const gp::Message& message) { return messageJson(message); }

std::vector<MapEntryRef> sortedMapEntries(const gp::Message& m, const FD* fd) {
  const gp::Reflection* r = m.GetReflection();
  const FD* keyFd = fd->message_type()->map_key();
  struct Entry {
    std::string key;
    long double order;  // numeric keys
    const gp::Message* entry;
  };
  std::vector<Entry> entries;
  for (int i = 0, n = r->FieldSize(m, fd); i < n; ++i) {
    const gp::Message& e = r->GetRepeatedMessage(m, fd, i);
    const gp::Reflection* er = e.GetReflection();
    Entry entry{"", 0, &e};
    switch (keyFd->cpp_type()) {
      case FD::CPPTYPE_STRING:
        entry.key = er->GetString(e, keyFd);
        break;
      case FD::CPPTYPE_BOOL:
        entry.order = er->GetBool(e, keyFd);
        entry.key = er->GetBool(e, keyFd) ? "true" : "false";
        break;
      case FD::CPPTYPE_INT32:
        entry.order = er->GetInt32(e, keyFd);
        entry.key = std::to_string(er->GetInt32(e, keyFd));
        break;
      case FD::CPPTYPE_INT64:
        entry.order = er->GetInt64(e, keyFd);
        entry.key = std::to_string(er->GetInt64(e, keyFd));
        break;
      case FD::CPPTYPE_UINT32:
        entry.order = er->GetUInt32(e, keyFd);
        entry.key = std::to_string(er->GetUInt32(e, keyFd));
        break;
      case FD::CPPTYPE_UINT64:
        entry.order = er->GetUInt64(e, keyFd);
        entry.key = std::to_string(er->GetUInt64(e, keyFd));
        break;
      default:
        break;
    }
    entries.push_back(std::move(entry));
  }
  bool numeric = keyFd->cpp_type() != FD::CPPTYPE_STRING;
  std::stable_sort(entries.begin(), entries.end(),
                   [&](const Entry& a, const Entry& b) { return numeric ? a.order < b.order : a.key < b.key; });
  std::vector<MapEntryRef> out;
  out.reserve(entries.size());
  for (auto& e : entries) out.push_back({std::move(e.key), e.entry});
  return out;
}

}  // namespace mesh::cli::pc
