#include "core/validation/schema.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>

#include <fmt/format.h>

#include "core/validation/schema_sources.h"
#include "core/yaml/parser.h"

namespace mesh::core::schema {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A broken schema text is a bug in meshctl, found by the first test that validates anything.
[[noreturn]] void schemaBug(std::string_view source, const std::string& what) {
  std::fprintf(stderr, "meshctl: internal error in schema %.*s: %s\n", static_cast<int>(source.size()),
               source.data(), what.c_str());
  std::abort();
}

class Registry {
 public:
  Registry() {
    std::vector<Parsed> parsed;
    for (const SchemaSource& src : allSources()) parsed.push_back(parse(src));
    // Pass 1: every named type gets its object so definitions may refer to each other freely.
    for (auto& p : parsed) {
      for (const auto& e : p.types->entries()) {
        std::string name(e.key->text());
        if (defs_.contains(name)) schemaBug(p.source.name, "type " + name + " defined twice");
        defs_[name] = Def{p.source.name, e.value, nullptr, p.proto};
      }
    }
    // Pass 2: resolve every definition, then every kind.
    for (auto& [name, def] : defs_) resolveNamed(name);
    for (auto& p : parsed) {
      if (!p.kind) continue;
      kinds_.push_back(buildKind(p));
    }
  }

  const KindSchema* find(std::string_view group, std::string_view kind) const {
    for (const auto& k : kinds_)
      if (k.group == group && k.kind == kind) return &k;
    return nullptr;
  }
  std::span<const KindSchema> kinds() const { return kinds_; }
  const Type* named(std::string_view name) const {
    auto it = defs_.find(std::string(name));
    return it == defs_.end() ? nullptr : it->second.type;
  }

 private:
  struct Parsed {
    SchemaSource source;
    ParsedFile file;
    const Node* types = nullptr;
    const Node* kind = nullptr;
    const Node* spec = nullptr;
    const Node* root = nullptr;
    bool proto = false;
  };
  struct Def {
    std::string_view source;
    const Node* node = nullptr;
    Type* type = nullptr;
    bool proto = false;
    bool resolving = false;
  };

  static Parsed parse(const SchemaSource& src) {
    Parsed p{src, parseYaml(std::string(src.name), src.text), nullptr, nullptr, nullptr, nullptr, false};
    if (p.file.error) schemaBug(src.name, p.file.error->format());
    if (p.file.documents.size() != 1 || !p.file.documents[0]->isMapping())
      schemaBug(src.name, "expected one YAML map");
    const Node* doc = p.file.documents[0];
    for (const auto& e : doc->entries()) {
      std::string_view k = e.key->text();
      if (k == "types") p.types = e.value;
      else if (k == "kind") p.kind = e.value;
      else if (k == "spec") p.spec = e.value;
      else if (k == "root") p.root = e.value;
      else if (k == "proto") p.proto = e.value->asBool().value_or(false);
      else schemaBug(src.name, "unknown key " + std::string(k));
    }
    if (!p.types || !p.types->isMapping()) schemaBug(src.name, "types must be a map");
    return p;
  }

  Type* make(TypeKind kind) {
    Type& t = storage_.emplace_back();
    t.kind = kind;
    return &t;
  }

  const Type* builtin(std::string_view s) {
    static const std::pair<std::string_view, TypeKind> kBuiltins[] = {
        {"string", TypeKind::String},   {"int32", TypeKind::Int32},
        {"uint32", TypeKind::UInt32},   {"int64", TypeKind::Int64},
        {"bool", TypeKind::Bool},       {"double", TypeKind::Double},
        {"duration", TypeKind::Duration}, {"quantity", TypeKind::Quantity},
        {"intOrString", TypeKind::IntOrString}, {"any", TypeKind::Any},
    };
    for (auto [name, kind] : kBuiltins) {
      if (s != name) continue;
      auto it = builtins_.find(kind);
      if (it != builtins_.end()) return it->second;
      Type* t = make(kind);
      builtins_[kind] = t;
      return t;
    }
    return nullptr;
  }

  const Type* expr(std::string_view source, std::string_view s) {
    s = trim(s);
    if (const Type* b = builtin(s)) return b;
    if (s.starts_with("enum(") && s.ends_with(")")) {
      Type* t = make(TypeKind::Enum);
      std::string_view body = s.substr(5, s.size() - 6);
      while (!body.empty()) {
        size_t bar = body.find('|');
        t->enumValues.emplace_back(trim(body.substr(0, bar)));
        body = bar == std::string_view::npos ? std::string_view() : body.substr(bar + 1);
      }
      return t;
    }
    if (s.starts_with("list<") && s.ends_with(">")) {
      Type* t = make(TypeKind::List);
      t->element = expr(source, s.substr(5, s.size() - 6));
      return t;
    }
    if (s.starts_with("map<") && s.ends_with(">")) {
      std::string_view body = s.substr(4, s.size() - 5);
      size_t comma = body.find(',');
      if (comma == std::string_view::npos) schemaBug(source, "map needs a key type: " + std::string(s));
      std::string_view key = trim(body.substr(0, comma));
      Type* t = make(TypeKind::Map);
      if (key == "uint32") t->keyKind = TypeKind::UInt32;
      else if (key != "string") schemaBug(source, "map keys are string or uint32: " + std::string(s));
      t->element = expr(source, body.substr(comma + 1));
      return t;
    }
    if (const Type* named = resolveNamed(std::string(s))) return named;
    schemaBug(source, "unknown type " + std::string(s));
  }

  const Type* resolveNamed(const std::string& name) {
    auto it = defs_.find(name);
    if (it == defs_.end()) return nullptr;
    Def& def = it->second;
    if (def.type) return def.type;
    if (def.resolving) schemaBug(def.source, "type alias cycle at " + name);
    def.resolving = true;
    if (def.node->isMapping()) {
      // Objects are created before their fields resolve, so recursive types work.
      Type* t = make(TypeKind::Object);
      t->name = name;
      t->protoNames = def.proto;
      def.type = t;
      fillObject(def.source, *t, *def.node);
    } else if (def.node->isScalar()) {
      Type* t = make(TypeKind::Any);
      *t = *expr(def.source, def.node->text());
      t->name = name;
      def.type = t;
    } else if (def.node->isNull()) {
      Type* t = make(TypeKind::Object);  // `Empty:` with nothing under it: an object without fields
      t->name = name;
      t->protoNames = def.proto;
      def.type = t;
    } else {
      schemaBug(def.source, "type " + name + " must be a map or a type expression");
    }
    def.resolving = false;
    return def.type;
  }

  void fillObject(std::string_view source, Type& t, const Node& body) {
    for (const auto& e : body.entries()) {
      std::string_view key = e.key->text();
      if (key == "_oneof") {
        for (const Node* group : e.value->items()) {
          std::vector<std::string> names;
          std::string_view g = group->text();
          while (!g.empty()) {
            size_t bar = g.find('|');
            names.emplace_back(trim(g.substr(0, bar)));
            g = bar == std::string_view::npos ? std::string_view() : g.substr(bar + 1);
          }
          t.oneofs.push_back(std::move(names));
        }
        continue;
      }
      if (!e.value->isScalar()) schemaBug(source, t.name + "." + std::string(key) + " needs a type expression");
      std::string_view s = trim(e.value->text());
      Field f;
      f.name = std::string(key);
      if (s.starts_with("required ")) {
        f.required = true;
        s.remove_prefix(9);
      }
      f.type = expr(source, s);
      t.fields.push_back(std::move(f));
    }
    for (const auto& group : t.oneofs)
      for (const auto& n : group)
        if (!t.field(n)) schemaBug(source, t.name + ": oneof names unknown field " + n);
  }

  KindSchema buildKind(const Parsed& p) {
    KindSchema k;
    std::string_view gk = p.kind->text();
    size_t slash = gk.rfind('/');
    if (slash != std::string_view::npos) {
      k.group = std::string(gk.substr(0, slash));
      k.kind = std::string(gk.substr(slash + 1));
    } else {
      k.kind = std::string(gk);
    }
    Type* root = make(TypeKind::Object);
    root->name = k.kind;
    auto add = [&](std::string name, const Type* type, bool required) {
      root->fields.push_back(Field{std::move(name), type, required});
    };
    add("apiVersion", builtin("string"), true);
    add("kind", builtin("string"), true);
    const Type* meta = named("ObjectMeta");
    if (!meta) schemaBug(p.source.name, "ObjectMeta is not defined");
    add("metadata", meta, true);
    if (p.spec) {
      k.spec = expr(p.source.name, p.spec->text());
      add("spec", k.spec, false);
    } else if (p.root) {
      const Type* body = expr(p.source.name, p.root->text());
      for (const auto& f : body->fields) root->fields.push_back(f);
      root->oneofs = body->oneofs;
    } else {
      schemaBug(p.source.name, "a kind needs spec or root");
    }
    add("status", builtin("any"), false);
    k.root = root;
    return k;
  }

  std::deque<Type> storage_;
  std::map<TypeKind, const Type*> builtins_;
  std::map<std::string, Def, std::less<>> defs_;
  std::vector<KindSchema> kinds_;
  // The parsed schema texts are only read while building: every name is copied into a Type.
};

const Registry& registry() {
  static const Registry r;
  return r;
}

}  // namespace

const Field* Type::field(std::string_view fieldName) const {
  for (const auto& f : fields)
    if (f.name == fieldName) return &f;
  return nullptr;
}

std::string Type::describe() const {
  if (!name.empty()) return name;
  switch (kind) {
    case TypeKind::String: return "string";
    case TypeKind::Int32: return "int32";
    case TypeKind::UInt32: return "uint32";
    case TypeKind::Int64: return "int64";
    case TypeKind::Bool: return "bool";
    case TypeKind::Double: return "double";
    case TypeKind::Duration: return "duration";
    case TypeKind::Quantity: return "quantity";
    case TypeKind::IntOrString: return "intOrString";
    case TypeKind::Any: return "any";
    case TypeKind::Enum: {
      std::string out = "enum(";
      for (size_t i = 0; i < enumValues.size(); ++i) out += (i ? "|" : "") + enumValues[i];
      return out + ")";
    }
    case TypeKind::List: return "list<" + element->describe() + ">";
    case TypeKind::Map:
      return std::string("map<") + (keyKind == TypeKind::UInt32 ? "uint32" : "string") + "," +
             element->describe() + ">";
    case TypeKind::Object: return "object";
  }
  return "any";
}

const KindSchema* findSchema(std::string_view group, std::string_view kind) {
  return registry().find(group, kind);
}

std::span<const KindSchema> allSchemas() { return registry().kinds(); }

const Type* findType(std::string_view name) { return registry().named(name); }

}  // namespace mesh::core::schema
