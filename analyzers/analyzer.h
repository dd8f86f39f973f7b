// The analyzer contract (after Istio's pkg/config/analysis): an analyzer declares its name,
// a description and the kinds it reads, looks at a Snapshot and reports Messages against
// resources. Analyzers hold no state between runs; the runner may call them from any thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "analyzers/message.h"
#include "analyzers/snapshot.h"
#include "core/yaml/node.h"

namespace mesh::analysis {

struct AnalyzerInfo {
  std::string_view name;  // as `istioctl analyze -L` lists it, e.g. "gateway.SecretAnalyzer"
  std::string_view description;
  std::vector<KindRef> inputs;
};

class Reporter {
 public:
  // `at` narrows the reference to the line of one field; by default the resource's own line.
  void report(const MessageType& type, const core::Resource& origin, std::vector<Arg> args,
              const core::Node* at = nullptr);
  // With the reference line given directly (e.g. from a validation Diagnostic).
  void reportAtLine(const MessageType& type, const core::Resource& origin, std::vector<Arg> args, uint32_t line);
  // For messages about no particular object.
  void reportGlobal(const MessageType& type, std::vector<Arg> args);
  std::vector<Message>& messages() { return messages_; }

 private:
  std::vector<Message> messages_;
};

class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual const AnalyzerInfo& info() const = 0;
  virtual void analyze(const Snapshot& snapshot, Reporter& reporter) const = 0;
};

// Istio's form of a resource name in messages: "Kind namespace/name", or "Kind name".
std::string originName(const core::Resource& r);

}  // namespace mesh::analysis
