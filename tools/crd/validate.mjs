// Validates custom resources against the schemas of their CRDs.
// stdin: a JSON array of manifests; stdout: a JSON array, one entry per manifest,
// {"error": null} when valid, {"error": "..."} when not, or {"error": ..., "unknown": true}
// when no validator exists for its apiVersion and kind.
import { readFileSync } from "node:fs";

// API group -> npm package whose validators were generated from that group's CRDs.
const PACKAGES = {
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "acme.cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
  "gateway.envoyproxy.io": "@kubernetes-models/envoy-gateway",
  "traefik.io": "@kubernetes-models/traefik",
};

async function modelFor(apiVersion, kind) {
  const [group, version] = String(apiVersion).split("/");
  const pkg = PACKAGES[group];
  if (!pkg || !version || !/^[A-Za-z]+$/.test(String(kind))) return null;
  try {
    const module = await import(`${pkg}/${group}/${version}/${kind}`);
    return module[kind] ?? null;
  } catch {
    return null;
  }
}

const manifests = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const manifest of manifests) {
  const Model = await modelFor(manifest.apiVersion, manifest.kind);
  if (Model === null) {
    results.push({ error: `no CRD schema for ${manifest.apiVersion} ${manifest.kind}`, unknown: true });
    continue;
  }
  try {
    new Model(manifest).validate();
    results.push({ error: null });
  } catch (error) {
    results.push({ error: String(error.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
