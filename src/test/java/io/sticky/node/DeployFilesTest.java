package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.StickyOptions;
import io.sticky.gateway.GatewayOptions;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files in {@code deploy/} parse, and state what a user relies on consistently with the
 * code: every {@code STICKY_*} variable is a launcher option and its value is accepted by the launcher,
 * ports are the ones the node listens on, probes hit the health endpoints, and grace periods cover a clean
 * leave. (No container engine or Kubernetes here: this is as far as they can be checked.)
 */
class DeployFilesTest {
  private static final Path COMPOSE = Path.of("deploy/docker-compose.yml");
  private static final Path KUBERNETES = Path.of("deploy/kubernetes");
  private static final Set<String> OPTION_ENVS = NodeOptionsParser.OPTIONS.stream().map(NodeOptionsParser.Option::env).collect(Collectors.toSet());

  @Test
  void composeRunsThreeNodesThatFindEachOther() throws IOException {
    Map<String, Object> compose = only(load(COMPOSE));
    Map<String, Object> services = map(compose, "services");
    assertThat(services).hasSize(3);
    Map<String, String> dockerfileEnv = dockerfileEnv();
    Set<String> hosts = new TreeSet<>();
    Set<String> published = new TreeSet<>();
    Set<List<String>> memberLists = new java.util.HashSet<>();
    for (Map.Entry<String, Object> e : services.entrySet()) {
      String name = e.getKey();
      Map<String, Object> service = cast(e.getValue());
      assertThat(COMPOSE.getParent().resolve(string(service, "build", "context")).resolve(string(service, "build", "dockerfile")))
          .as(name + " builds the repository's Dockerfile").isRegularFile().isEqualTo(Path.of("deploy/../Dockerfile"));
      Map<String, String> env = stringMap(map(service, "environment"));
      assertStickyVariablesAreOptions(name, env.keySet());
      Map<String, String> effective = new HashMap<>(dockerfileEnv);
      effective.putAll(env);
      NodeOptions options = NodeOptions.parse(new String[0], effective); // what the launcher makes of it

      assertThat(options.getHost()).as(name + " STICKY_HOST is its own address on the network")
          .isEqualTo(string(service, "networks", "sticky", "ipv4_address"));
      hosts.add(options.getHost() + ":" + options.getClusterPort());
      memberLists.add(options.getMembers());
      assertThat(inSubnet(options.getHost(), string(cast(list(map(compose, "networks", "sticky", "ipam"), "config").get(0)), "subnet"))).isTrue();

      List<Object> ports = list(service, "ports");
      assertThat(ports).hasSize(1);
      String[] mapping = ports.get(0).toString().split(":");
      assertThat(Integer.parseInt(mapping[1])).as(name + " publishes the HTTP port").isEqualTo(options.getGateway().getPort());
      published.add(mapping[0]);

      long grace = seconds(string(service, "stop_grace_period"));
      assertThat(grace).as(name + " stop_grace_period covers the launcher's clean shutdown").isGreaterThan(StickyMain.SHUTDOWN_TIMEOUT_SECONDS);
      assertThat(string(service, "healthcheck", "test")).contains("/health/ready").contains(":" + options.getGateway().getPort() + "/");
    }
    assertThat(published).containsExactly("8081", "8082", "8083");
    assertThat(memberLists).as("every node lists every node as a member").containsExactly(new ArrayList<>(hosts));
  }

  @Test
  void kubernetesFilesAreListedInTheKustomizationAndParse() throws IOException {
    Set<String> files;
    try (Stream<Path> s = Files.list(KUBERNETES)) {
      files = s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".yaml") || f.endsWith(".yml")).collect(Collectors.toCollection(TreeSet::new));
    }
    Map<String, Object> kustomization = only(load(KUBERNETES.resolve("kustomization.yaml")));
    Set<String> resources = list(kustomization, "resources").stream().map(Object::toString).collect(Collectors.toCollection(TreeSet::new));
    files.remove("kustomization.yaml");
    assertThat(resources).isEqualTo(files);
    for (Map<String, Object> doc : kubernetes().values()) {
      assertThat(string(doc, "apiVersion")).isNotBlank();
      assertThat(string(doc, "metadata", "name")).isNotBlank();
    }
  }

  @Test
  void kubernetesStatefulSetUsesDnsDiscoveryProbesAndAGraceThatCoversALeave() throws IOException {
    Map<String, Map<String, Object>> docs = kubernetes();
    Map<String, Object> sts = docs.get("StatefulSet/sticky");
    Map<String, Object> headless = docs.get("Service/sticky-hazelcast");
    Map<String, Object> http = docs.get("Service/sticky");
    assertThat(sts).isNotNull();
    assertThat(headless).isNotNull();
    assertThat(http).isNotNull();

    assertThat(map(sts, "spec").get("replicas")).isEqualTo(3);
    assertThat(string(sts, "spec", "serviceName")).isEqualTo(string(headless, "metadata", "name"));
    Map<String, Object> podLabels = map(sts, "spec", "template", "metadata", "labels");
    assertThat(map(sts, "spec", "selector", "matchLabels")).isEqualTo(podLabels);
    for (Map<String, Object> doc : docs.values()) {
      if (doc.get("kind").equals("Service")) {
        assertThat(map(doc, "spec", "selector")).as("%s selects the pods", string(doc, "metadata", "name")).isEqualTo(podLabels);
      } else if (doc.get("kind").equals("PodDisruptionBudget")) {
        assertThat(map(doc, "spec", "selector", "matchLabels")).isEqualTo(podLabels);
        assertThat(map(doc, "spec").get("maxUnavailable")).isEqualTo(1);
      }
    }

    Map<String, Object> pod = map(sts, "spec", "template", "spec");
    List<Object> containers = list(pod, "containers");
    assertThat(containers).hasSize(1);
    Map<String, Object> container = cast(containers.get(0));

    // Environment: real options, values the launcher accepts, the pod IP, DNS discovery instead of members.
    Map<String, Object> envEntries = new LinkedHashMap<>();
    for (Object o : list(container, "env")) {
      Map<String, Object> entry = cast(o);
      envEntries.put(string(entry, "name"), entry);
    }
    assertStickyVariablesAreOptions("statefulset", envEntries.keySet());
    assertThat(string(cast(envEntries.get("STICKY_HOST")), "valueFrom", "fieldRef", "fieldPath")).isEqualTo("status.podIP");
    String serviceDns = string(cast(envEntries.get("STICKY_KUBERNETES_SERVICE_DNS")), "value");
    assertThat(serviceDns).startsWith(string(headless, "metadata", "name") + ".$(POD_NAMESPACE).svc.");
    assertThat(string(cast(envEntries.get("POD_NAMESPACE")), "valueFrom", "fieldRef", "fieldPath")).isEqualTo("metadata.namespace");
    assertThat(envEntries).doesNotContainKey("STICKY_MEMBERS");
    assertThat(string(cast(envEntries.get("JAVA_OPTS")), "value")).contains("MaxRAMPercentage");
    Map<String, String> env = new HashMap<>(dockerfileEnv());
    envEntries.forEach((name, entry) -> {
      Object value = ((Map<?, ?>) entry).get("value");
      env.put(name, value != null ? value.toString() : "10.244.1.7"); // a pod IP for the downward API
    });
    NodeOptions options = NodeOptions.parse(new String[0], env);
    assertThat(options.getKubernetesServiceDns()).isEqualTo(serviceDns);
    assertThat(options.getLogFormat()).isEqualTo(LogFormat.JSON);
    assertThat(HazelcastConfigs.create(options).getNetworkConfig().getJoin().getKubernetesConfig().isEnabled()).isTrue();

    // Ports: those the node listens on with this environment.
    Map<String, Integer> ports = new HashMap<>();
    for (Object o : list(container, "ports")) {
      Map<String, Object> p = cast(o);
      ports.put(string(p, "name"), (Integer) p.get("containerPort"));
    }
    assertThat(ports).containsEntry("http", options.getGateway().getPort()).containsEntry("hazelcast", options.getClusterPort())
        .containsEntry("bus", options.getBusPort()).containsEntry("management", options.getGateway().getManagementPort());
    assertThat(options.getGateway().getManagementHost()).as("the kubelet probes the pod IP").isEqualTo("0.0.0.0");
    assertThat(options.getGateway().getPort()).isEqualTo(GatewayOptions.DEFAULT_PORT);
    assertThat(options.getClusterPort()).isEqualTo(NodeOptions.DEFAULT_CLUSTER_PORT);
    assertThat(options.getBusPort()).as("the image's fixed bus port").isEqualTo(Integer.parseInt(dockerfileEnv().get("STICKY_BUS_PORT")));
    assertThat(list(headless, "spec", "ports")).hasSize(1);
    Map<String, Object> hzPort = cast(list(headless, "spec", "ports").get(0));
    assertThat(hzPort.get("port")).isEqualTo(options.getClusterPort());
    assertThat(hzPort.get("targetPort")).isEqualTo("hazelcast");
    assertThat(map(headless, "spec").get("clusterIP")).isEqualTo("None");
    assertThat(map(headless, "spec").get("publishNotReadyAddresses")).as("joining pods are not ready yet").isEqualTo(true);
    assertThat(cast(list(http, "spec", "ports").get(0)).get("targetPort")).isEqualTo("http");

    // Probes.
    assertThat(string(container, "readinessProbe", "httpGet", "path")).isEqualTo("/health/ready");
    assertThat(string(container, "livenessProbe", "httpGet", "path")).isEqualTo("/health/live");
    assertThat(string(container, "startupProbe", "httpGet", "path")).isEqualTo("/health/live");
    for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
      assertThat(string(container, probe, "httpGet", "port")).as("health lives on the management port").isEqualTo("management");
    }

    // Termination: preStop, then the launcher's clean shutdown (which bounds the leave), within the grace period.
    List<Object> preStop = list(map(container, "lifecycle", "preStop", "exec"), "command");
    assertThat(preStop.get(0)).isEqualTo("sleep");
    long preStopSeconds = Long.parseLong(preStop.get(1).toString());
    int grace = (Integer) pod.get("terminationGracePeriodSeconds");
    assertThat(grace).isGreaterThanOrEqualTo(30).isGreaterThan((int) (preStopSeconds + StickyMain.SHUTDOWN_TIMEOUT_SECONDS));
    assertThat(StickyOptions.DEFAULT_LEAVE_TIMEOUT_MS).as("the leave fits in the launcher's shutdown")
        .isLessThan(StickyMain.SHUTDOWN_TIMEOUT_SECONDS * 1000);

    assertThat(map(container, "resources", "requests")).containsKeys("cpu", "memory");
    assertThat(map(container, "resources", "limits")).containsKey("memory");
  }

  @Test
  void kubernetesNetworkPolicyAdmitsOnlyStickyPodsToTheClusterPorts() throws IOException {
    Map<String, Map<String, Object>> docs = kubernetes();
    Map<String, Object> policy = docs.get("NetworkPolicy/sticky");
    assertThat(policy).as("a NetworkPolicy ships with the Kubernetes files").isNotNull();
    Map<String, Object> sts = docs.get("StatefulSet/sticky");
    Map<String, Object> podLabels = map(sts, "spec", "template", "metadata", "labels");
    assertThat(map(policy, "spec", "podSelector", "matchLabels")).isEqualTo(podLabels);
    Map<String, Object> container = cast(list(map(sts, "spec", "template", "spec"), "containers").get(0));
    Set<Object> containerPorts = list(container, "ports").stream().map(p -> ((Map<?, ?>) p).get("name")).collect(Collectors.toSet());

    boolean clusterPortsCovered = false;
    for (Object o : list(policy, "spec", "ingress")) {
      Map<String, Object> rule = cast(o);
      List<Object> ports = list(rule, "ports").stream().map(p -> (Object) ((Map<?, ?>) p).get("port")).toList();
      assertThat(containerPorts).as("the policy names the container's ports").containsAll(ports);
      if (ports.contains("hazelcast") || ports.contains("bus")) {
        assertThat(ports).containsExactlyInAnyOrder("hazelcast", "bus");
        List<Object> from = list(rule, "from");
        assertThat(from).as("cluster ports: from Sticky pods only").hasSize(1);
        assertThat(map(cast(from.get(0)), "podSelector", "matchLabels")).isEqualTo(podLabels);
        clusterPortsCovered = true;
      }
    }
    assertThat(clusterPortsCovered).isTrue();
  }

  private static void assertStickyVariablesAreOptions(String where, Set<String> names) {
    for (String name : names) {
      if (name.startsWith("STICKY_")) {
        assertThat(OPTION_ENVS).as("%s sets %s, which the launcher does not read", where, name).contains(name);
      }
    }
  }

  /** ENV lines of the repository's Dockerfile (KEY=value form). */
  private static Map<String, String> dockerfileEnv() throws IOException {
    Map<String, String> env = new HashMap<>();
    Matcher m = Pattern.compile("(?m)^ENV ([A-Z_]+)=(\"[^\"]*\"|\\S+)").matcher(Files.readString(Path.of("Dockerfile")));
    while (m.find()) {
      env.put(m.group(1), m.group(2).replace("\"", ""));
    }
    assertThat(env).containsKey("STICKY_BUS_PORT");
    return env;
  }

  /** Every document of every Kubernetes file, by kind/name. */
  private static Map<String, Map<String, Object>> kubernetes() throws IOException {
    Map<String, Map<String, Object>> docs = new LinkedHashMap<>();
    try (Stream<Path> s = Files.list(KUBERNETES)) {
      for (Path file : s.sorted().toList()) {
        if (!file.getFileName().toString().equals("kustomization.yaml")) {
          for (Map<String, Object> doc : load(file)) {
            String key = doc.get("kind") + "/" + string(doc, "metadata", "name");
            assertThat(docs.put(key, doc)).as("%s defined once", key).isNull();
          }
        }
      }
    }
    assertThat(docs).isNotEmpty();
    return docs;
  }

  private static List<Map<String, Object>> load(Path file) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file)) {
      for (Object doc : new Yaml().loadAll(r)) {
        if (doc != null) {
          assertThat(doc).as("a document of %s", file).isInstanceOf(Map.class);
          docs.add(cast(doc));
        }
      }
    }
    assertThat(docs).as(file.toString()).isNotEmpty();
    return docs;
  }

  private static Map<String, Object> only(List<Map<String, Object>> docs) {
    assertThat(docs).hasSize(1);
    return docs.get(0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  private static Map<String, Object> map(Map<String, Object> root, String... path) {
    Object o = root;
    for (String key : path) {
      assertThat(o).as("%s at %s", String.join(".", path), key).isInstanceOf(Map.class);
      o = ((Map<?, ?>) o).get(key);
    }
    return cast(o);
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Map<String, Object> root, String... path) {
    Map<String, Object> parent = path.length == 1 ? root : map(root, java.util.Arrays.copyOf(path, path.length - 1));
    Object o = parent.get(path[path.length - 1]);
    assertThat(o).as(String.join(".", path)).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  private static String string(Map<String, Object> root, String... path) {
    Map<String, Object> parent = path.length == 1 ? root : map(root, java.util.Arrays.copyOf(path, path.length - 1));
    Object o = parent.get(path[path.length - 1]);
    assertThat(o).as(String.join(".", path)).isNotNull();
    return o.toString();
  }

  private static Map<String, String> stringMap(Map<String, Object> m) {
    Map<String, String> result = new LinkedHashMap<>();
    m.forEach((k, v) -> result.put(k, String.valueOf(v)));
    return result;
  }

  /** A compose duration: 40s, 1m30s, 2m. */
  private static long seconds(String duration) {
    Matcher m = Pattern.compile("(?:(\\d+)m)?(?:(\\d+)s)?").matcher(duration);
    assertThat(m.matches() && !duration.isEmpty()).as("duration " + duration).isTrue();
    return (m.group(1) == null ? 0 : Long.parseLong(m.group(1)) * 60) + (m.group(2) == null ? 0 : Long.parseLong(m.group(2)));
  }

  private static boolean inSubnet(String ip, String cidr) {
    String[] parts = cidr.split("/");
    int bits = Integer.parseInt(parts[1]);
    long mask = bits == 0 ? 0 : 0xFFFFFFFFL << (32 - bits) & 0xFFFFFFFFL;
    return (ipv4(ip) & mask) == (ipv4(parts[0]) & mask);
  }

  private static long ipv4(String ip) {
    long v = 0;
    for (String octet : ip.split("\\.")) {
      v = v << 8 | Integer.parseInt(octet);
    }
    return v;
  }
}
