// The renderers: one per component, each turning the InstallPlan into Kubernetes objects
// (ordered JSON, keys in the order people read them). render_workload.cpp holds what meshd and
// the gateways share: the Deployment with its k8s.* overrides, the PodDisruptionBudget and the
// HorizontalPodAutoscaler. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "install/install_plan.h"

namespace mesh::install {

// Base: the CRDs, and the reader account remote secrets use (multiCluster.enabled).
std::vector<Object> renderBase(const InstallPlan& plan);
// Pilot: meshd's ServiceAccount, RBAC, mesh config, Deployment, Service, PDB, HPA.
std::vector<Object> renderMeshd(const InstallPlan& plan, const MeshdPlan& meshd);
// One gateway: ServiceAccount, Deployment, Service, PDB, HPA.
std::vector<Object> renderGateway(const InstallPlan& plan, const GatewayPlan& gateway);
Object namespaceObject(const InstallPlan& plan, const std::string& ns, std::string_view component);

// A Deployment and what scales it.
struct Workload {
  std::string name;
  std::string ns;
  std::string_view component;
  Object labels;                               // on the Deployment and its pods; `selector` is a subset
  Object deploymentLabels = Object::object();  // on the Deployment only
  Object selector;
  Object podAnnotations;  // before k8s.podAnnotations
  std::string serviceAccount;
  bool mountToken = true;  // automountServiceAccountToken
  Object container;        // name, image, args, ports, env, probe, resources, securityContext
  Object volumes = Object::array();
  Object nodeSelector = Object::object();  // values.* nodeSelector, before k8s.nodeSelector
  Scaling scaling;
  nlohmann::json k8s;  // components.*.k8s
};

Object deployment(const InstallPlan& plan, const Workload& w);
Object podDisruptionBudget(const InstallPlan& plan, const Workload& w);
Object horizontalPodAutoscaler(const InstallPlan& plan, const Workload& w);
// The pod's own security context and the container's, for programs that need nothing else.
Object restrictedPodSecurity();
Object restrictedContainerSecurity();
// {name, valueFrom: {fieldRef: {fieldPath}}}
Object fieldEnv(std::string_view name, std::string_view fieldPath);

}  // namespace mesh::install
