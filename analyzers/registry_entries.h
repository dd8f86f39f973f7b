// Each area of analyzers adds its own to the registry through one function; registry.cpp
// calls them all and sorts. An analyzer lives in its own file under analyzers/<area>/.
#pragma once

#include <memory>
#include <vector>

#include "analyzers/analyzer.h"

namespace mesh::analysis {

using AnalyzerList = std::vector<std::unique_ptr<Analyzer>>;

// analyzers/virtualservice, destinationrule, serviceentry, sidecar
void addRoutingAnalyzers(AnalyzerList& out);
// analyzers/gateway, k8sgateway, externalcontrolplane, webhook, conditions, auth, authn
void addGatewayAndSecurityAnalyzers(AnalyzerList& out);
// analyzers/injection, annotations, deployment, service, deprecation, envoyfilter,
// meshnetworks, multicluster, telemetry
void addWorkloadAnalyzers(AnalyzerList& out);
// analyzers/schema: schema.ValidationAnalyzer.<Kind>
void addSchemaAnalyzers(AnalyzerList& out);

}  // namespace mesh::analysis
