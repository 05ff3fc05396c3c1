// sign.js - signatures and verifications per second of the same 2 KB
// indicator report with Node's xml-crypto (XML-DSig) and jose (JWS): the
// Node baselines of bench/bench_sign.sh. Prints {"impl", "ops": [{"format",
// "alg", "op", "per_s": [...]}]} like tests/tools/bench_sign.c.
// What one operation is:
//   xml sign    SignedXml.computeSignature(xml string) + getSignedXml():
//               parses the string, enveloped signature (Reference URI="",
//               enveloped + exclusive C14N, SHA-256), signer certificate
//               in KeyInfo; so it is compared with lienthong's
//               parse-sign-serialize;
//   xml verify  checkSignature(signed string) with the certificate given
//               (pinned key; no chain check);
//   jws sign    jose FlattenedSign over the message bytes with alg and x5c
//               in the protected header (no RFC 8785 step: less work than
//               lienthong, which canonicalizes first);
//   jws verify  jose flattenedVerify with the public key (pinned).
// xml-crypto 6 ships RSA-SHA256 only among these algorithms; RSA-PSS-SHA256
// (RFC 6931) and ECDSA-SHA256 (P1363 r||s, as XML-DSig 1.1 asks) are added
// the way xml-crypto documents for custom algorithms, on node:crypto.
// usage: node sign.js PKI_DIR XML JSON RUNS SECONDS
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const { SignedXml } = require("xml-crypto");
const jose = require("jose");

const [pki, xmlPath, jsonPath, runsS, secsS] = process.argv.slice(2);
if (!secsS) {
  process.stderr.write("usage: node sign.js PKI_DIR XML JSON RUNS SECONDS\n");
  process.exit(2);
}
const runs = parseInt(runsS, 10), secs = parseFloat(secsS);
const xml = fs.readFileSync(xmlPath, "utf8");
const json = fs.readFileSync(jsonPath);

const U = {
  RS256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  PS256: "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
  ES256: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
};
function custom(uri, opts) {
  return class {
    getSignature(signedInfo, key) {
      return crypto.sign("sha256", Buffer.from(signedInfo), { key, ...opts }).toString("base64");
    }
    verifySignature(material, key, sig) {
      return crypto.verify("sha256", Buffer.from(material), { key, ...opts }, Buffer.from(sig, "base64"));
    }
    getAlgorithmName() { return uri; }
  };
}
const PSS = custom(U.PS256, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
const ECDSA = custom(U.ES256, { dsaEncoding: "ieee-p1363" });

function keys(name) {
  const keyPem = fs.readFileSync(`${pki}/${name}.key`, "utf8");
  const certPem = fs.readFileSync(`${pki}/${name}.pem`, "utf8");
  const der = new crypto.X509Certificate(certPem).raw.toString("base64");
  return { keyPem, certPem, priv: crypto.createPrivateKey(keyPem),
           pub: crypto.createPublicKey(certPem), x5c: [der] };
}

function xmlSigner(alg, k) {
  // the key parsed once (a KeyObject), as lienthong loads it once
  const s = new SignedXml({ privateKey: k.priv, publicCert: k.certPem,
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
    signatureAlgorithm: U[alg] });
  s.SignatureAlgorithms[U.PS256] = PSS;
  s.SignatureAlgorithms[U.ES256] = ECDSA;
  s.addReference({ xpath: "/*", isEmptyUri: true,
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
    transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                 "http://www.w3.org/2001/10/xml-exc-c14n#"] });
  return s;
}
function xmlSign(alg, k) {
  const s = xmlSigner(alg, k);
  s.computeSignature(xml, { location: { reference: "/*", action: "append" } });
  return s.getSignedXml();
}
function xmlVerify(signed, k) {
  const v = new SignedXml({ publicCert: k.pub });
  v.SignatureAlgorithms[U.PS256] = PSS;
  v.SignatureAlgorithms[U.ES256] = ECDSA;
  const doc = new (require("@xmldom/xmldom").DOMParser)().parseFromString(signed, "text/xml");
  const sig = doc.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0];
  v.loadSignature(sig);
  return v.checkSignature(signed);
}

async function rate(fn, secs) {
  const t0 = process.hrtime.bigint();
  let n = 0, batch = 4, t;
  do {
    for (let i = 0; i < batch; i++) {
      const r = fn();
      if (r && typeof r.then === "function") await r;
    }
    n += batch;
    if (batch < 4096) batch *= 2;
    t = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (t < secs);
  return Math.round(n / t * 10) / 10;
}

async function main() {
  const rsa = keys("ministry-rsa"), ec = keys("ministry-ec"), ed = keys("ministry-ed25519");
  const out = { impl: `xml-crypto ${require("xml-crypto/package.json").version}, jose ${require("jose/package.json").version}, node ${process.version}`, ops: [] };
  const push = async (format, alg, op, fn) => {
    const per_s = [];
    for (let r = 0; r < runs; r++) per_s.push(await rate(fn, secs));
    out.ops.push({ format, alg, op, per_s });
  };
  for (const [alg, k] of [["RS256", rsa], ["PS256", rsa], ["ES256", ec]]) {
    const signed = xmlSign(alg, k);
    if (!xmlVerify(signed, k)) throw new Error(`xml-crypto: own ${alg} signature does not verify`);
    await push("xml", alg, "sign", () => xmlSign(alg, k));
    await push("xml", alg, "verify", () => { if (!xmlVerify(signed, k)) throw new Error("bad"); });
  }
  for (const [alg, k] of [["RS256", rsa], ["PS256", rsa], ["ES256", ec], ["EdDSA", ed]]) {
    const sign = () => new jose.FlattenedSign(json).setProtectedHeader({ alg, x5c: k.x5c }).sign(k.priv);
    const jws = await sign();
    await jose.flattenedVerify(jws, k.pub);
    await push("jws", alg, "sign", sign);
    await push("jws", alg, "verify", () => jose.flattenedVerify(jws, k.pub));
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
main().catch((e) => { process.stderr.write(`sign.js: ${e.stack || e}\n`); process.exit(1); });
