// Kubernetes Pod (core/v1 PodSpec). The fields meshctl reads (containers, ports, env, resources,
// probes, labels) are typed; the rest of PodSpec is listed so typos are caught, with free-form
// values where their structure does not matter to a mesh.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kPodSchema = {"schema_pod.cpp", R"yaml(
kind: Pod
spec: PodSpec
types:
  PodTemplateSpec:
    metadata: ObjectMeta
    spec: PodSpec
  PodSpec:
    containers: required list<Container>
    initContainers: list<Container>
    ephemeralContainers: list<any>
    volumes: list<Volume>
    restartPolicy: enum(Always|OnFailure|Never)
    terminationGracePeriodSeconds: int64
    activeDeadlineSeconds: int64
    dnsPolicy: enum(ClusterFirstWithHostNet|ClusterFirst|Default|None)
    nodeSelector: map<string,string>
    serviceAccountName: string
    serviceAccount: string
    automountServiceAccountToken: bool
    nodeName: string
    hostNetwork: bool
    hostPID: bool
    hostIPC: bool
    shareProcessNamespace: bool
    securityContext: any
    imagePullSecrets: list<LocalObjectReference>
    hostname: string
    subdomain: string
    affinity: any
    schedulerName: string
    tolerations: list<Toleration>
    hostAliases: list<HostAlias>
    priorityClassName: string
    priority: int32
    dnsConfig: any
    readinessGates: list<any>
    runtimeClassName: string
    enableServiceLinks: bool
    preemptionPolicy: enum(PreemptLowerPriority|Never)
    overhead: map<string,quantity>
    topologySpreadConstraints: list<any>
    setHostnameAsFQDN: bool
    os: PodOS
    hostUsers: bool
    schedulingGates: list<any>
    resourceClaims: list<any>
    resources: ResourceRequirements
  Container:
    name: required string
    image: string
    command: list<string>
    args: list<string>
    workingDir: string
    ports: list<ContainerPort>
    envFrom: list<any>
    env: list<EnvVar>
    resources: ResourceRequirements
    resizePolicy: list<any>
    restartPolicy: string
    volumeMounts: list<VolumeMount>
    volumeDevices: list<any>
    livenessProbe: Probe
    readinessProbe: Probe
    startupProbe: Probe
    lifecycle: any
    terminationMessagePath: string
    terminationMessagePolicy: enum(File|FallbackToLogsOnError)
    imagePullPolicy: enum(Always|Never|IfNotPresent)
    securityContext: any
    stdin: bool
    stdinOnce: bool
    tty: bool
  ContainerPort:
    name: string
    hostPort: int32
    containerPort: required int32
    protocol: Protocol
    hostIP: string
  EnvVar:
    name: required string
    value: string
    valueFrom: any
  ResourceRequirements:
    limits: map<string,quantity>
    requests: map<string,quantity>
    claims: list<any>
  VolumeMount:
    name: required string
    readOnly: bool
    recursiveReadOnly: string
    mountPath: required string
    subPath: string
    mountPropagation: string
    subPathExpr: string
  Probe:
    exec: ExecAction
    httpGet: HTTPGetAction
    tcpSocket: TCPSocketAction
    grpc: GRPCAction
    initialDelaySeconds: int32
    timeoutSeconds: int32
    periodSeconds: int32
    successThreshold: int32
    failureThreshold: int32
    terminationGracePeriodSeconds: int64
    _oneof: [exec|httpGet|tcpSocket|grpc]
  ExecAction:
    command: list<string>
  HTTPGetAction:
    path: string
    port: required intOrString
    host: string
    scheme: enum(HTTP|HTTPS)
    httpHeaders: list<KubeHTTPHeader>
  KubeHTTPHeader:
    name: required string
    value: required string
  TCPSocketAction:
    port: required intOrString
    host: string
  GRPCAction:
    port: required int32
    service: string
  Toleration:
    key: string
    operator: enum(Exists|Equal)
    value: string
    effect: string
    tolerationSeconds: int64
  HostAlias:
    ip: required string
    hostnames: list<string>
  PodOS:
    name: required string
  # Every volume source of core/v1 Volume; their contents are not checked here.
  Volume:
    name: required string
    hostPath: any
    emptyDir: any
    gcePersistentDisk: any
    awsElasticBlockStore: any
    gitRepo: any
    secret: any
    nfs: any
    iscsi: any
    glusterfs: any
    persistentVolumeClaim: any
    rbd: any
    flexVolume: any
    cinder: any
    cephfs: any
    flocker: any
    downwardAPI: any
    fc: any
    azureFile: any
    configMap: any
    vsphereVolume: any
    quobyte: any
    azureDisk: any
    photonPersistentDisk: any
    projected: any
    portworxVolume: any
    scaleIO: any
    storageos: any
    csi: any
    ephemeral: any
    image: any
)yaml"};

}  // namespace mesh::core::schema
