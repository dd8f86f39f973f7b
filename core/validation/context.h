// What a validator gets: the resource under check and a sink for findings that pins each one
// to the node it is about (file:line:column) and the field path the user wrote.
#pragma once

#include <string>
#include <string_view>

#include "core/diagnostic.h"
#include "core/resource.h"

namespace mesh::core {

class ValidationContext {
 public:
  ValidationContext(const Resource& resource, Diagnostics& out) : resource_(resource), out_(out) {}

  const Resource& resource() const { return resource_; }

  // `at` may be nullptr (a missing field): the finding then points at the resource itself.
  void error(const Node* at, std::string field, std::string message) {
    add(Severity::Error, at, std::move(field), std::move(message));
  }
  void warning(const Node* at, std::string field, std::string message) {
    add(Severity::Warning, at, std::move(field), std::move(message));
  }
  // A warning Istio's analyzer reports under its own code (see Diagnostic::analysisCode).
  void analysisWarning(const Node* at, std::string field, std::string message, std::string code,
                       std::vector<std::string> args) {
    add(Severity::Warning, at, std::move(field), std::move(message));
    out_.back().analysisCode = std::move(code);
    out_.back().analysisArgs = std::move(args);
  }

 private:
  void add(Severity severity, const Node* at, std::string field, std::string message) {
    Mark m = at ? at->mark() : resource_.mark();
    out_.push_back(Diagnostic{severity, resource_.file(), m.line, m.column, resource_.displayName(),
                              std::move(field), std::move(message), {}, {}});
  }

  const Resource& resource_;
  Diagnostics& out_;
};

}  // namespace mesh::core
