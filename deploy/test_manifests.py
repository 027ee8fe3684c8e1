#!/usr/bin/python3
"""Manifest test: parses every YAML file under deploy/ and cross-checks the deployment against deploy/krakend.json
(names, ports, probe paths, Autodiscovery annotation container names, Datadog env, graceful-shutdown budget, the
ConfigMap source), and krakend.json against the seed's routing table.

Run: /usr/bin/python3 -m unittest deploy/test_manifests.py -v     (needs Debian's python3-yaml)
"""
import glob
import json
import os
import re
import unittest

import yaml

DEPLOY = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DEPLOY)
K8S = os.path.join(DEPLOY, "k8s")

# The seed's routing table (seed/000_*.txt "API Endpoint Routing"): (method, endpoint) -> [(host, backend path, group)]
AUTH, CHAT, RANKING = "http://auth-python-svc:8000", "http://chat-node-svc:8080", "http://ranking-java-svc:8081"
SEED_ROUTES = {
    ("GET", "/health"): [(AUTH, "/", None)],
    ("GET", "/api/auth/{path}"): [(AUTH, "/auth/{path}", None)],
    ("POST", "/api/auth/{path}"): [(AUTH, "/auth/{path}", None)],
    ("DELETE", "/api/auth/{path}"): [(AUTH, "/auth/{path}", None)],
    ("GET", "/api/session/{path}"): [(AUTH, "/session/{path}", None)],
    ("POST", "/api/score"): [(AUTH, "/score", None)],
    ("GET", "/api/chat"): [(CHAT, "/", None)],
    ("GET", "/api/chat/{path}"): [(CHAT, "/{path}", None)],
    ("POST", "/api/chat/{path}"): [(CHAT, "/{path}", None)],
    ("GET", "/api/ranking"): [(RANKING, "/", None)],
    ("GET", "/api/ranking/{path}"): [(RANKING, "/{path}", None)],
    ("POST", "/api/ranking/{path}"): [(RANKING, "/{path}", None)],
    ("GET", "/rankings/{path}"): [(RANKING, "/rankings/{path}", None)],
    ("GET", "/api/status"): [(AUTH, "/", "auth"), (CHAT, "/", "chat"), (RANKING, "/", "ranking")],
}
SEED_DD_ENV = {"DD_LOGS_INJECTION": "true", "DD_APPSEC_ENABLED": "true", "DD_TRACE_ENABLED": "true"}


def load_yaml_docs():
    docs = {}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True)):
        with open(path) as f:
            docs[path] = [d for d in yaml.safe_load_all(f) if d is not None]
    return docs


def duration_seconds(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    assert m, f"bad duration {text!r}"
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


class ManifestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(DEPLOY, "krakend.json")) as f:
            cls.krakend = json.load(f)
        cls.files = load_yaml_docs()
        cls.objects = [(path, d) for path, ds in cls.files.items() for d in ds if isinstance(d, dict) and "kind" in d]

    def obj(self, kind, name):
        found = [d for _, d in self.objects if d["kind"] == kind and d["metadata"]["name"] == name]
        self.assertEqual(len(found), 1, f"exactly one {kind}/{name}")
        return found[0]

    def gateway_port(self):
        return self.krakend.get("port", 8080)

    def metrics_port(self):
        return self.krakend["extra_config"]["telemetry/opentelemetry"]["exporters"]["prometheus"][0].get("port", 9090)

    def health_path(self):
        return self.krakend["extra_config"].get("router", {}).get("health_path", "/__health")

    # --- krakend.json -------------------------------------------------------------------------------------
    def test_krakend_routing_table_is_the_seeds(self):
        self.assertEqual(self.krakend["version"], 3)
        got = {}
        for e in self.krakend["endpoints"]:
            key = (e.get("method", "GET"), e["endpoint"])
            self.assertNotIn(key, got, f"duplicate endpoint {key}")
            got[key] = [(b["host"][0], b["url_pattern"], b.get("group")) for b in e["backend"]]
        self.assertEqual(got, SEED_ROUTES)

    def test_krakend_endpoint_settings(self):
        for e in self.krakend["endpoints"]:
            key = (e.get("method", "GET"), e["endpoint"])
            with self.subTest(endpoint=key):
                enc = e.get("output_encoding", self.krakend.get("output_encoding", "json"))
                if enc == "no-op":
                    self.assertEqual(len(e["backend"]), 1, "no-op needs exactly one backend")
                if key[0] in ("POST", "DELETE") or e["endpoint"].startswith(("/api/auth", "/api/score")):
                    self.assertIn("Authorization", e.get("input_headers", []), "services authenticate with Bearer")
                if key[0] == "POST":
                    self.assertIn("Content-Type", e.get("input_headers", []))
        health = next(e for e in self.krakend["endpoints"] if e["endpoint"] == "/health")
        static = health["extra_config"]["proxy"]["static"]
        self.assertEqual(static["strategy"], "always")
        self.assertEqual(static["data"], {"status": "ok", "service": "api-gateway"})
        self.assertEqual(self.krakend["name"], "api-gateway")
        self.assertEqual((self.gateway_port(), self.metrics_port()), (8080, 9090))

    # --- every YAML parses ------------------------------------------------------------------------------
    def test_every_yaml_parses_and_has_kind(self):
        self.assertGreaterEqual(len(self.files), 4)
        for path, docs in self.files.items():
            with self.subTest(file=os.path.relpath(path, ROOT)):
                self.assertTrue(docs, "empty YAML")
                for d in docs:
                    self.assertIsInstance(d, dict)
                    self.assertIn("apiVersion", d)
                    self.assertIn("kind", d)

    # --- gateway Deployment ---------------------------------------------------------------------------
    def test_gateway_deployment(self):
        dep = self.obj("Deployment", "api-gateway")
        self.assertEqual(dep["spec"]["replicas"], 2)
        tpl = dep["spec"]["template"]
        labels = tpl["metadata"]["labels"]
        for k, v in dep["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(k), v, "selector matches pod labels")
        (c,) = tpl["spec"]["containers"]
        self.assertEqual(c["name"], "api-gateway")
        self.assertIn("api-gateway", c["image"])
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports, {"http": self.gateway_port(), "metrics": self.metrics_port()})
        for probe in ("readinessProbe", "livenessProbe"):
            get = c[probe]["httpGet"]
            self.assertEqual(get["path"], self.health_path(), probe)
            self.assertIn(get["port"], ("http", self.gateway_port()), probe)
        self.assertIn("cpu", c["resources"]["requests"])
        self.assertIn("memory", c["resources"]["limits"])
        self.assertTrue(tpl["spec"]["securityContext"]["runAsNonRoot"])

    def test_graceful_shutdown_budget(self):
        dep = self.obj("Deployment", "api-gateway")
        spec = dep["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        cmd = c["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(os.path.basename(cmd[0]), "sleep")
        pre_stop = float(cmd[-1])
        drain = duration_seconds(self.krakend["max_shutdown_wait_time"])
        self.assertGreater(drain, 0, "max_shutdown_wait_time must bound the drain")
        self.assertGreaterEqual(spec["terminationGracePeriodSeconds"], pre_stop + drain + 5)
        nlb = self.obj("Service", "api-gateway-nlb")
        attrs = nlb["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"]
        dereg = int(re.search(r"deregistration_delay\.timeout_seconds=(\d+)", attrs).group(1))
        self.assertLessEqual(dereg, pre_stop + drain)

    def test_datadog_env_and_unified_tagging(self):
        dep = self.obj("Deployment", "api-gateway")
        tpl = dep["spec"]["template"]
        (c,) = tpl["spec"]["containers"]
        env = {e["name"]: e for e in c["env"]}
        for k, v in SEED_DD_ENV.items():
            self.assertEqual(env[k].get("value"), v, k)
        self.assertEqual(env["DD_AGENT_HOST"]["valueFrom"]["fieldRef"]["fieldPath"], "status.hostIP")
        for var, tag in (("DD_ENV", "env"), ("DD_SERVICE", "service"), ("DD_VERSION", "version")):
            label = f"tags.datadoghq.com/{tag}"
            self.assertEqual(env[var]["valueFrom"]["fieldRef"]["fieldPath"], f"metadata.labels['{label}']")
            self.assertIn(label, tpl["metadata"]["labels"])
            self.assertEqual(dep["metadata"]["labels"][label], tpl["metadata"]["labels"][label])
        self.assertEqual(tpl["metadata"]["labels"]["tags.datadoghq.com/service"], self.krakend["name"])

    def test_autodiscovery_annotations(self):
        for _, d in self.objects:
            if d["kind"] != "Deployment":
                continue
            tpl = d["spec"]["template"]
            names = {c["name"] for c in tpl["spec"]["containers"]}
            for key, value in tpl["metadata"].get("annotations", {}).items():
                m = re.fullmatch(r"ad\.datadoghq\.com/([^.]+)\.(checks|logs)", key)
                if not m:
                    continue
                with self.subTest(deployment=d["metadata"]["name"], annotation=key):
                    self.assertIn(m.group(1), names, "annotation names a container of the pod")
                    json.loads(value)
        ann = self.obj("Deployment", "api-gateway")["spec"]["template"]["metadata"]["annotations"]
        checks = json.loads(ann["ad.datadoghq.com/api-gateway.checks"])
        endpoint = f"http://%%host%%:{self.metrics_port()}/metrics"
        self.assertEqual(checks["krakend"]["instances"][0]["openmetrics_endpoint"], endpoint)
        for name, check in checks.items():
            for inst in check["instances"]:
                self.assertEqual(inst["openmetrics_endpoint"], endpoint, name)
        if "openmetrics" in checks:
            self.assertEqual(checks["openmetrics"]["instances"][0]["namespace"], "krakend.api")
        logs = json.loads(ann["ad.datadoghq.com/api-gateway.logs"])
        self.assertEqual(logs[0]["source"], "krakend")
        self.assertEqual(logs[0]["service"], self.krakend["name"])

    def test_gateway_services(self):
        svc = self.obj("Service", "api-gateway-svc")
        ports = {(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]}
        self.assertEqual(ports, {(8080, 8080), (9090, 9090)})
        pod_labels = self.obj("Deployment", "api-gateway")["spec"]["template"]["metadata"]["labels"]
        for name in ("api-gateway-svc", "api-gateway-nlb"):
            for k, v in self.obj("Service", name)["spec"]["selector"].items():
                self.assertEqual(pod_labels.get(k), v, f"{name} selects the gateway pods")
        nlb = self.obj("Service", "api-gateway-nlb")
        self.assertEqual(nlb["spec"]["type"], "LoadBalancer")
        ann = nlb["metadata"]["annotations"]
        self.assertEqual(ann["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip")
        self.assertEqual(ann["service.beta.kubernetes.io/aws-load-balancer-healthcheck-path"], self.health_path())
        self.assertEqual({p["targetPort"] for p in nlb["spec"]["ports"]}, {self.gateway_port()})

    def test_pdb_and_hpa(self):
        dep = self.obj("Deployment", "api-gateway")
        pdb = self.obj("PodDisruptionBudget", "api-gateway")
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], dep["spec"]["selector"]["matchLabels"])
        self.assertLess(pdb["spec"]["minAvailable"], dep["spec"]["replicas"])
        hpa = self.obj("HorizontalPodAutoscaler", "api-gateway")
        self.assertEqual(hpa["apiVersion"], "autoscaling/v2")
        self.assertEqual(hpa["spec"]["scaleTargetRef"], {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api-gateway"})
        self.assertGreaterEqual(hpa["spec"]["minReplicas"], dep["spec"]["replicas"])
        self.assertGreater(hpa["spec"]["maxReplicas"], hpa["spec"]["minReplicas"])

    def test_configmap_is_generated_from_krakend_json(self):
        with open(os.path.join(DEPLOY, "kustomization.yaml")) as f:
            kust = yaml.safe_load(f)
        for res in kust["resources"]:
            self.assertTrue(os.path.exists(os.path.join(DEPLOY, res)), res)
        (gen,) = [g for g in kust["configMapGenerator"] if g["name"] == "api-gateway-config"]
        (entry,) = gen["files"]
        key, _, src = entry.partition("=")
        src = src or key
        self.assertEqual(os.path.realpath(os.path.join(DEPLOY, src)), os.path.join(DEPLOY, "krakend.json"))
        spec = self.obj("Deployment", "api-gateway")["spec"]["template"]["spec"]
        (vol,) = [v for v in spec["volumes"] if "configMap" in v]
        self.assertEqual(vol["configMap"]["name"], "api-gateway-config")
        self.assertEqual({i["key"] for i in vol["configMap"].get("items", [{"key": key}])}, {os.path.basename(key)})
        (c,) = spec["containers"]
        (mount,) = [m for m in c["volumeMounts"] if m["name"] == vol["name"]]
        config_path = c["args"][c["args"].index("-c") + 1]
        self.assertEqual(os.path.dirname(config_path), mount["mountPath"])
        self.assertFalse(any(d["kind"] == "ConfigMap" for _, d in self.objects), "no hand-written copy of the config")
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            dockerfile = f.read()
        self.assertIn(f'CMD {json.dumps(["run", "-c", config_path])}', dockerfile)

    def test_backend_services_match_krakend_hosts(self):
        hosts = {b["host"][0] for e in self.krakend["endpoints"] for b in e["backend"]}
        self.assertEqual(hosts, {AUTH, CHAT, RANKING})
        for host in sorted(hosts):
            name, port = host.split("://", 1)[1].split(":")
            port = int(port)
            with self.subTest(service=name):
                svc = self.obj("Service", name)
                (p,) = svc["spec"]["ports"]
                self.assertEqual(p["port"], port)
                dep = self.obj("Deployment", name)
                tpl = dep["spec"]["template"]
                for k, v in svc["spec"]["selector"].items():
                    self.assertEqual(tpl["metadata"]["labels"].get(k), v)
                (c,) = tpl["spec"]["containers"]
                self.assertEqual(c["name"], name)
                self.assertIn(p["targetPort"], [cp["containerPort"] for cp in c["ports"]] + [cp["name"] for cp in c["ports"]])
                env = {e["name"]: e for e in c["env"]}
                self.assertEqual(env["PORT"]["value"], str(port))
                self.assertEqual(env["BIND"]["value"], "0.0.0.0")
                self.assertIn("secretKeyRef", env["JWT_SECRET"]["valueFrom"])
                for probe in ("readinessProbe", "livenessProbe"):
                    self.assertEqual(c[probe]["httpGet"]["path"], "/")
                self.assertEqual(dep["spec"]["replicas"], 1, "in-memory state: one replica")
                self.assertTrue(os.path.exists(os.path.join(ROOT, "services", name, "Dockerfile")))

    def test_datadog_agent(self):
        dda = self.obj("DatadogAgent", "datadog")
        self.assertEqual(dda["apiVersion"], "datadoghq.com/v2alpha1")
        f = dda["spec"]["features"]
        self.assertTrue(f["apm"]["enabled"])
        # The gateway's DD_AGENT_HOST is status.hostIP: the agent must listen on the host port.
        self.assertTrue(f["apm"]["hostPortConfig"]["enabled"])
        self.assertEqual(f["apm"]["hostPortConfig"]["hostPort"], 8126)
        self.assertTrue(f["logCollection"]["enabled"])
        self.assertTrue(f["logCollection"]["containerCollectAll"])
        for proto in ("grpc", "http"):
            self.assertTrue(f["otlp"]["receiver"]["protocols"][proto]["enabled"], proto)
        o = dda["spec"]["override"]
        self.assertEqual(o["nodeAgent"]["image"]["tag"], "7.70.0")
        self.assertEqual(o["clusterAgent"]["image"]["tag"], "7.70.0")
        creds = dda["spec"]["global"]["credentials"]
        self.assertIn("secretName", creds["apiSecret"])

    def test_gateway_dockerfile(self):
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            text = f.read()
        self.assertRegex(text, r"(?m)^FROM debian:12 AS build")
        self.assertRegex(text, r"(?m)^FROM debian:12-slim")
        self.assertIn("scripts/build-image.sh", text)
        self.assertRegex(text, r"(?m)^EXPOSE 8080 9090$")
        self.assertRegex(text, r"(?m)^HEALTHCHECK ")
        self.assertIn(self.health_path(), text)
        user = re.search(r"(?m)^USER (\S+)", text).group(1)
        self.assertNotIn(user.split(":")[0], ("root", "0"))
        spec = self.obj("Deployment", "api-gateway")["spec"]["template"]["spec"]
        self.assertEqual(str(spec["securityContext"]["runAsUser"]), user.split(":")[0])


if __name__ == "__main__":
    unittest.main()
