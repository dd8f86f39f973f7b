// webhook.Analyzer: Istio's sidecar-injector webhooks must not overlap — for every namespace
// and pod label permutation (none, istio-injection / sidecar.istio.io/inject on and off, each
// with every revision seen) at most one webhook may match, or injection could happen twice
// (IST0139). A webhook's control-plane Service must exist (IST0139).
#include <algorithm>
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kRevLabel = "istio.io/rev";

struct Hook {
  const core::Resource* config;
  const core::Node* node;
};

std::string fullName(std::string_view ns, std::string_view name) {
  return ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
}

// metav1.LabelSelectorAsSelector, with the webhook default: an absent selector matches all,
// an invalid one matches nothing.
bool selectorMatches(const core::Node* selector, const Labels& labels) {
  if (!selector || selector->isNull()) return true;
  if (const core::Node* exprs = selector->get("matchExpressions")) {
    for (const core::Node* e : exprs->items()) {
      const core::Node* op = e->get("operator");
      const core::Node* values = e->get("values");
      size_t count = values ? values->items().size() : 0;
      std::string_view o = op ? op->text() : std::string_view();
      if ((o == "In" || o == "NotIn") && count == 0) return false;
      if ((o == "Exists" || o == "DoesNotExist") && count != 0) return false;
    }
  }
  return LabelSelector::fromLabelSelector(selector).matches(labels);
}

void revisionsOf(const core::Node* selector, std::set<std::string>& revs) {
  if (!selector || selector->isNull()) return;
  if (const core::Node* ml = selector->get("matchLabels"))
    if (const core::Node* r = ml->get(kRevLabel)) revs.insert(std::string(r->text()));
  if (const core::Node* exprs = selector->get("matchExpressions"))
    for (const core::Node* e : exprs->items()) {
      const core::Node* key = e->get("key");
      if (!key || key->text() != kRevLabel) continue;
      if (const core::Node* values = e->get("values"))
        for (const core::Node* v : values->items()) revs.insert(std::string(v->text()));
    }
}

std::vector<Labels> permutations(std::string_view key, const std::set<std::string>& revisions) {
  std::vector<Labels> base{{}, {{std::string(key), "enabled"}}, {{std::string(key), "disabled"}}};
  if (key == "sidecar.istio.io/inject") base = {{}, {{std::string(key), "true"}}, {{std::string(key), "false"}}};
  std::vector<Labels> out = base;
  for (const std::string& rev : revisions)
    for (Labels l : base) {
      l[std::string(kRevLabel)] = rev;
      out.push_back(std::move(l));
    }
  return out;
}

class WebhookAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"webhook.Analyzer",
                                    "Checks the validity of Istio webhooks",
                                    {kinds::MutatingWebhookConfiguration, kinds::Service}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<std::string, Hook> hooks;  // "config/hook"
    std::set<std::string> revisions;
    for (const core::Resource* config : snapshot.all(kinds::MutatingWebhookConfiguration)) {
      const core::Node* list = config->root().get("webhooks");
      std::set<std::string> revs;
      Labels labels = labelsOf(*config);
      if (auto it = labels.find(kRevLabel); it != labels.end()) revs.insert(it->second);
      bool istio = false;
      for (const core::Node* h : list ? list->items() : std::span<const core::Node* const>()) {
        revisionsOf(h->get("namespaceSelector"), revs);
        revisionsOf(h->get("objectSelector"), revs);
        const core::Node* name = h->get("name");
        if (name && name->text().ends_with("istio.io")) istio = true;
      }
      if (revs.empty() && !istio) continue;
      for (const core::Node* h : list ? list->items() : std::span<const core::Node* const>()) {
        const core::Node* name = h->get("name");
        hooks.emplace(fullName(config->namespace_(), config->name()) + "/" + std::string(name ? name->text() : ""),
                      Hook{config, h});
      }
      revisions.insert(revs.begin(), revs.end());
    }

    for (const Labels& nl : permutations("istio-injection", revisions)) {
      for (const Labels& ol : permutations("sidecar.istio.io/inject", revisions)) {
        std::vector<std::string> matches;
        for (const auto& [key, hook] : hooks)
          if (selectorMatches(hook.node->get("namespaceSelector"), nl) &&
              selectorMatches(hook.node->get("objectSelector"), ol))
            matches.push_back(key);
        if (matches.size() < 2) continue;
        for (const std::string& match : matches) {
          std::vector<std::string> others;
          std::copy_if(matches.begin(), matches.end(), std::back_inserter(others),
                       [&](const std::string& m) { return m != match; });
          std::string text = "Webhook overlaps with others: [";
          for (size_t i = 0; i < others.size(); ++i) text += (i ? " " : "") + others[i];
          text += "]. This may cause injection to occur twice.";
          const Hook& hook = hooks.at(match);
          reporter.report(messageType("InvalidWebhook"), *hook.config, {text}, hook.node);
        }
      }
    }

    for (const auto& [key, hook] : hooks) {
      const core::Node* client = hook.node->get("clientConfig");
      const core::Node* service = client ? client->get("service") : nullptr;
      if (!service || service->isNull()) continue;  // a URL webhook
      const core::Node* ns = service->get("namespace");
      const core::Node* name = service->get("name");
      std::string_view nsText = ns ? ns->text() : "", nameText = name ? name->text() : "";
      if (snapshot.find(kinds::Service, nsText, nameText)) continue;
      reporter.report(
          messageType("InvalidWebhook"), *hook.config,
          {"Injector refers to a control plane service that does not exist: " + fullName(nsText, nameText) + "."},
          service);
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeWebhookAnalyzer() { return std::make_unique<WebhookAnalyzer>(); }

}  // namespace mesh::analysis
