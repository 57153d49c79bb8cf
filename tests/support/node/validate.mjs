// Validates Gateway API objects with @kubernetes-models/gateway-api, whose validators are
// compiled from the schemas kubernetes-models generates from the Gateway API's own Go types.
// Reads a JSON array of objects on stdin; writes a JSON array of {kind, name, valid, error}.
// Exits 2 when an object is of a kind the package has no model for.
import { readFileSync } from "node:fs";

const objects = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const object of objects) {
  const [group, version] = String(object.apiVersion ?? "").split("/");
  const kind = String(object.kind ?? "");
  let model;
  try {
    model = (await import(`@kubernetes-models/gateway-api/${group}/${version}/${kind}`))[kind];
  } catch (error) {
    process.stderr.write(`no model for ${object.apiVersion} ${kind}: ${error.message}\n`);
    process.exit(2);
  }
  const name = object.metadata?.name ?? null;
  try {
    new model(object).validate();
    results.push({ kind, name, valid: true, error: null });
  } catch (error) {
    results.push({ kind, name, valid: false, error: error.message });
  }
}
process.stdout.write(JSON.stringify(results) + "\n");
