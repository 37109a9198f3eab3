// Seal N values with @linode/kubeseal-encrypt (an independent SealedSecrets encryptor) and
// print the elapsed milliseconds. Usage: node seal_node.cjs PUBLIC_KEY_PEM NAMESPACE VALUES_JSON
// The package is loaded from /work/main/.tools/node_modules unless KUBESEAL_ENCRYPT is set.
const fs = require("fs");
const path = require("path");

const modulePath =
  process.env.KUBESEAL_ENCRYPT ||
  path.join(__dirname, "..", ".tools", "node_modules", "@linode", "kubeseal-encrypt");
const { encryptSecretItem } = require(modulePath);

async function main() {
  const [pemFile, namespace, valuesFile] = process.argv.slice(2);
  const pem = fs.readFileSync(pemFile, "utf8");
  const values = JSON.parse(fs.readFileSync(valuesFile, "utf8"));
  await encryptSecretItem(pem, namespace, "warm-up");
  const start = process.hrtime.bigint();
  for (const value of values) {
    await encryptSecretItem(pem, namespace, value);
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(elapsed.toFixed(3));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
