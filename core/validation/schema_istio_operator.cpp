// IstioOperator (install.istio.io/v1alpha1): the install spec `meshctl manifest generate` and
// `profile` read, with Istio's key names so users' overlays keep working. Only what the
// renderer in install/ honours is here: a key it would ignore is an unknown field, not a
// silent no-op. Types only (no `kind:`): it is not a kind meshd serves; install/ looks the
// root up with findType("IstioOperator").
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kIstioOperatorSchema = {"schema_istio_operator.cpp", R"yaml(
types:
  IstioOperator:
    apiVersion: string
    kind: string
    metadata: ObjectMeta
    spec: IstioOperatorSpec
  IstioOperatorSpec:
    profile: string
    hub: string
    tag: string
    namespace: string
    revision: string
    meshConfig: MeshConfig
    components: IOPComponents
    values: IOPValues
  IOPComponents:
    base: IOPComponent
    pilot: IOPComponent
    cni: IOPComponent
    ztunnel: IOPComponent
    istiodRemote: IOPComponent
    ingressGateways: list<IOPGateway>
    egressGateways: list<IOPGateway>
  IOPComponent:
    enabled: bool
    namespace: string
    hub: string
    tag: string
    k8s: IOPKubernetes
  IOPGateway:
    name: required string
    namespace: string
    enabled: bool
    label: map<string,string>
    hub: string
    tag: string
    k8s: IOPKubernetes
  IOPKubernetes:
    affinity: any
    env: list<EnvVar>
    hpaSpec: IOPHpaSpec
    imagePullPolicy: IOPPullPolicy
    nodeSelector: map<string,string>
    podDisruptionBudget: IOPPdbSpec
    podAnnotations: map<string,string>
    priorityClassName: string
    readinessProbe: Probe
    replicaCount: int32
    resources: ResourceRequirements
    securityContext: any
    service: IOPServiceSpec
    serviceAnnotations: map<string,string>
    strategy: DeploymentStrategy
    tolerations: list<Toleration>
    volumes: list<Volume>
    volumeMounts: list<VolumeMount>
  IOPPullPolicy: enum(Always|Never|IfNotPresent)
  IOPHpaSpec:
    minReplicas: int32
    maxReplicas: int32
    metrics: list<any>
  IOPPdbSpec:
    minAvailable: intOrString
    maxUnavailable: intOrString
    _oneof: [minAvailable|maxUnavailable]
  IOPServiceSpec:
    type: enum(ClusterIP|NodePort|LoadBalancer)
    ports: list<KubeServicePort>
    loadBalancerIP: string
    loadBalancerSourceRanges: list<string>
    externalTrafficPolicy: enum(Cluster|Local)
  IOPValues:
    global: IOPGlobalValues
    pilot: IOPPilotValues
    gateways: map<string,IOPGatewayValues>
    local: IOPLocalValues
  # Local mode only (`meshctl install --local`): the loopback ports of meshd and of each
  # gateway by name. The Kubernetes manifest ignores them.
  IOPLocalValues:
    xdsPort: int32
    monitoringPort: int32
    debugPort: int32
    caPort: int32
    gateways: map<string,IOPLocalGatewayValues>
  IOPLocalGatewayValues:
    adminPort: int32
    statusPort: int32
    prometheusPort: int32
  IOPGlobalValues:
    hub: string
    tag: string
    istioNamespace: string
    imagePullPolicy: IOPPullPolicy
    imagePullSecrets: list<string>
    logging: IOPLogging
    # Only meshd's own CA is there; a plugged-in root goes in the cacerts Secret.
    pilotCertProvider: enum(istiod)
    multiCluster: IOPMultiCluster
    network: string
    meshID: string
    remotePilotAddress: string
    defaultPodDisruptionBudget: IOPEnabled
    defaultNodeSelector: map<string,string>
    defaultTolerations: list<Toleration>
    priorityClassName: string
    proxy: IOPProxyValues
  IOPLogging:
    level: string
  IOPMultiCluster:
    enabled: bool
    clusterName: string
  IOPEnabled:
    enabled: bool
  IOPProxyValues:
    clusterDomain: string
  IOPPilotValues:
    image: string
    autoscaleEnabled: bool
    autoscaleMin: int32
    autoscaleMax: int32
    replicaCount: int32
    resources: ResourceRequirements
    env: map<string,string>
    nodeSelector: map<string,string>
    podAnnotations: map<string,string>
    podLabels: map<string,string>
    deploymentLabels: map<string,string>
    cpu: IOPCpuTarget
    configMap: bool
  IOPCpuTarget:
    targetAverageUtilization: int32
  IOPGatewayValues:
    autoscaleEnabled: bool
    autoscaleMin: int32
    autoscaleMax: int32
    type: enum(ClusterIP|NodePort|LoadBalancer)
  # istio.mesh.v1alpha1.MeshConfig, carried into the `istio` ConfigMap as written. Nested
  # messages meshctl does not interpret are `any`.
  MeshConfig:
    proxyListenPort: int32
    proxyInboundListenPort: int32
    proxyHttpPort: int32
    connectTimeout: duration
    protocolDetectionTimeout: duration
    tcpKeepalive: any
    ingressClass: string
    ingressService: string
    ingressControllerMode: enum(UNSPECIFIED|OFF|DEFAULT|STRICT)
    ingressSelector: string
    enableTracing: bool
    accessLogFile: string
    accessLogFormat: string
    accessLogEncoding: enum(TEXT|JSON)
    enableEnvoyAccessLogService: bool
    disableEnvoyListenerLog: bool
    defaultConfig: ProxyConfigSpec
    outboundTrafficPolicy: MeshOutboundTrafficPolicy
    inboundTrafficPolicy: MeshInboundTrafficPolicy
    configSources: list<any>
    enableAutoMtls: bool
    trustDomain: string
    trustDomainAliases: list<string>
    caCertificates: list<any>
    defaultServiceExportTo: list<string>
    defaultVirtualServiceExportTo: list<string>
    defaultDestinationRuleExportTo: list<string>
    rootNamespace: string
    localityLbSetting: any
    dnsRefreshRate: duration
    h2UpgradePolicy: enum(DO_NOT_UPGRADE|UPGRADE)
    inboundClusterStatName: string
    outboundClusterStatName: string
    certificates: list<any>
    serviceSettings: list<any>
    enablePrometheusMerge: bool
    verifyCertificateAtClient: bool
    ca: any
    extensionProviders: list<any>
    defaultProviders: any
    discoverySelectors: list<LabelSelector>
    pathNormalization: any
    defaultHttpRetryPolicy: any
    meshMTLS: any
    tlsDefaults: any
    serviceScopeConfigs: list<any>
  MeshOutboundTrafficPolicy:
    mode: enum(REGISTRY_ONLY|ALLOW_ANY)
  MeshInboundTrafficPolicy:
    mode: enum(PASSTHROUGH|LOCALHOST)
  # istio.mesh.v1alpha1.ProxyConfig (meshConfig.defaultConfig).
  ProxyConfigSpec:
    configPath: string
    binaryPath: string
    serviceCluster: string
    drainDuration: duration
    discoveryAddress: string
    statsdUdpAddress: string
    proxyAdminPort: int32
    controlPlaneAuthPolicy: enum(NONE|MUTUAL_TLS|INHERIT)
    customConfigFile: string
    statNameLength: int32
    concurrency: int32
    proxyBootstrapTemplatePath: string
    interceptionMode: enum(REDIRECT|TPROXY|NONE)
    tracing: ProxyTracing
    envoyAccessLogService: any
    envoyMetricsService: any
    proxyMetadata: map<string,string>
    runtimeValues: map<string,string>
    statusPort: int32
    extraStatTags: list<string>
    terminationDrainDuration: duration
    meshId: string
    readinessProbe: any
    proxyStatsMatcher: any
    holdApplicationUntilProxyStarts: bool
    caCertificatesPem: list<string>
    image: any
    privateKeyProvider: any
    proxyHeaders: any
    gatewayTopology: any
    fileFlushInterval: duration
    fileFlushMinSizeKb: uint32
  ProxyTracing:
    sampling: double
    maxPathTagLength: uint32
    customTags: any
    zipkin: any
    lightstep: any
    datadog: any
    stackdriver: any
    openCensusAgent: any
    tlsSettings: any
)yaml"};

}  // namespace mesh::core::schema
