#include "controlplane/xds/route_filters.h"

#include <array>
#include <charconv>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/route_action.h"
#include "controlplane/xds/route_match.h"

namespace mesh::xds {
namespace {

using core::Node;
using model::text;

std::string joinList(const Node* seq) {
  std::string out;
  for (const std::string& s : model::stringList(seq)) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

}  // namespace

std::optional<uint32_t> grpcStatusCode(std::string_view status) {
  static constexpr std::array<std::string_view, 17> kCodes = {
      "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",      "UNIMPLEMENTED",  "INTERNAL",            "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  for (size_t i = 0; i < kCodes.size(); ++i)
    if (kCodes[i] == status) return static_cast<uint32_t>(i);
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(status.data(), status.data() + status.size(), n);
  if (ec == std::errc() && p == status.data() + status.size() && n < kCodes.size()) return n;
  return std::nullopt;
}

std::optional<envoy::extensions::filters::http::fault::v3::HTTPFault> translateFault(const Node* fault) {
  if (!fault) return std::nullopt;
  envoy::extensions::filters::http::fault::v3::HTTPFault out;
  if (const Node* delay = fault->get("delay")) {
    // Only fixed delays: Istio drops exponentialDelay (Envoy has no such fault).
    if (auto ns = durationNanosAt(delay, "fixedDelay")) {
      auto* d = out.mutable_delay();
      setDuration(*d->mutable_fixed_delay(), *ns);
      if (const Node* pct = delay->get("percentage")) {
        *d->mutable_percentage() = fractionalPercent(model::numberAt(pct, "value").value_or(0));
      } else {
        d->mutable_percentage()->set_numerator(static_cast<uint32_t>(model::uint32At(delay, "percent").value_or(0)));
        d->mutable_percentage()->set_denominator(envoy::type::v3::FractionalPercent::HUNDRED);
      }
    }
  }
  if (const Node* abort = fault->get("abort")) {
    envoy::extensions::filters::http::fault::v3::FaultAbort a;
    bool typed = false;
    if (auto status = model::uint32At(abort, "httpStatus")) {
      a.set_http_status(*status);
      typed = true;
    } else if (const Node* g = abort->get("grpcStatus"); g && g->isScalar()) {
      if (auto code = grpcStatusCode(g->text())) {
        a.set_grpc_status(*code);
        typed = true;
      }
    }
    // Without a percentage Envoy aborts nothing, which is Istio's documented default.
    if (const Node* pct = abort->get("percentage"))
      *a.mutable_percentage() = fractionalPercent(model::numberAt(pct, "value").value_or(0));
    if (typed) *out.mutable_abort() = std::move(a);
  }
  if (!out.has_delay() && !out.has_abort()) return std::nullopt;
  return out;
}

envoy::extensions::filters::http::cors::v3::CorsPolicy translateCors(const Node* cors) {
  envoy::extensions::filters::http::cors::v3::CorsPolicy out;
  // Before Envoy 1.30 unmatched preflights were forwarded; Istio keeps that unless IGNORE.
  out.mutable_forward_not_matching_preflights()->set_value(text(cors, "unmatchedPreflights") != "IGNORE");
  if (const Node* origins = cors ? cors->get("allowOrigins") : nullptr) {
    for (const Node* o : model::items(origins))
      if (auto m = stringMatcher(o)) *out.add_allow_origin_string_match() = *m;
  } else {
    for (const std::string& o : model::stringList(cors ? cors->get("allowOrigin") : nullptr))
      out.add_allow_origin_string_match()->set_exact(o);  // the deprecated exact-only list
  }
  auto* enabled = out.mutable_filter_enabled()->mutable_default_value();
  enabled->set_numerator(100);
  enabled->set_denominator(envoy::type::v3::FractionalPercent::HUNDRED);
  if (auto creds = model::boolAt(cors, "allowCredentials")) out.mutable_allow_credentials()->set_value(*creds);
  out.set_allow_headers(joinList(cors ? cors->get("allowHeaders") : nullptr));
  out.set_allow_methods(joinList(cors ? cors->get("allowMethods") : nullptr));
  out.set_expose_headers(joinList(cors ? cors->get("exposeHeaders") : nullptr));
  if (auto ns = durationNanosAt(cors, "maxAge")) out.set_max_age(fmt::format("{}", *ns / 1000000000));
  return out;
}

}  // namespace mesh::xds
