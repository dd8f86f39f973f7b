// Kubernetes Deployment (apps/v1 DeploymentSpec); the pod template is PodSpec from schema_pod.cpp.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kDeploymentSchema = {"schema_deployment.cpp", R"yaml(
kind: apps/Deployment
spec: DeploymentSpec
types:
  DeploymentSpec:
    replicas: int32
    selector: required LabelSelector
    template: required PodTemplateSpec
    strategy: DeploymentStrategy
    minReadySeconds: int32
    revisionHistoryLimit: int32
    paused: bool
    progressDeadlineSeconds: int32
  DeploymentStrategy:
    type: enum(Recreate|RollingUpdate)
    rollingUpdate: RollingUpdateDeployment
  RollingUpdateDeployment:
    maxUnavailable: intOrString
    maxSurge: intOrString
)yaml"};

}  // namespace mesh::core::schema
