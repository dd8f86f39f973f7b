// Kubernetes types shared by every kind: ObjectMeta (apimachinery meta/v1), label selectors,
// object references, protocols.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kKubeCommonSchema = {"schema_kube_common.cpp", R"yaml(
types:
  ObjectMeta:
    name: string
    generateName: string
    namespace: string
    labels: map<string,string>
    annotations: map<string,string>
    uid: string
    resourceVersion: string
    generation: int64
    creationTimestamp: string
    deletionTimestamp: string
    deletionGracePeriodSeconds: int64
    ownerReferences: list<OwnerReference>
    finalizers: list<string>
    managedFields: list<any>
    selfLink: string
  OwnerReference:
    apiVersion: required string
    kind: required string
    name: required string
    uid: required string
    controller: bool
    blockOwnerDeletion: bool
  LabelSelector:
    matchLabels: map<string,string>
    matchExpressions: list<LabelSelectorRequirement>
  LabelSelectorRequirement:
    key: required string
    operator: required enum(In|NotIn|Exists|DoesNotExist)
    values: list<string>
  ObjectReference:
    kind: string
    namespace: string
    name: string
    uid: string
    apiVersion: string
    resourceVersion: string
    fieldPath: string
  LocalObjectReference:
    name: string
  Protocol: enum(TCP|UDP|SCTP)
)yaml"};

}  // namespace mesh::core::schema
