/**
 * TLS material for the embedded API server: a throwaway CA and a server
 * certificate it signs (SAN IP 127.0.0.1 and DNS localhost), generated at
 * start. The kubeconfig carries the CA as certificate-authority-data, so
 * kubectl and client-node verify the server like any real cluster instead
 * of skipping verification.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import forge from "node-forge";
import { ScaledRealClock } from "../../clock/real.ts";

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

interface KeyPair {
  /** node's key, for signing. */
  priv: KeyObject;
  /** forge's view of the public key, for the certificate body. */
  pub: forge.pki.rsa.PublicKey;
}

function keyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pub = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  return { priv: privateKey, pub: pub as forge.pki.rsa.PublicKey };
}

/** The parts of a forge certificate that forge's own cert.sign sets (not all in its typings). */
interface Signable {
  md: forge.md.MessageDigest;
  signatureOid: string;
  siginfo: { algorithmOid: string };
  tbsCertificate: forge.asn1.Asn1;
  signature: string;
}

/** forge.pki.getTBSCertificate, which its typings leave out. */
interface ForgeTbs {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
}

/**
 * What forge's cert.sign(key, sha256) does, with the RSA signature computed
 * by node's crypto (forge's pure-JS RSA took most of a second per listen()).
 */
function signCert(cert: forge.pki.Certificate, key: KeyObject): void {
  const c = cert as unknown as forge.pki.Certificate & Signable;
  c.md = forge.md.sha256.create();
  c.signatureOid = forge.pki.oids.sha256WithRSAEncryption!;
  c.siginfo.algorithmOid = c.signatureOid;
  c.tbsCertificate = (forge.pki as unknown as ForgeTbs).getTBSCertificate(cert);
  const der = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), "binary");
  c.signature = sign("sha256", der, key).toString("binary");
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

/**
 * Generate a CA and a server certificate for `hosts` (IPs and DNS names).
 * Validity follows the wall clock (certificates are checked against it by
 * clients), from one day ago for ten years.
 */
export function generateTls(hosts: string[] = ["127.0.0.1", "localhost"]): TlsMaterial {
  const now = new ScaledRealClock(1).now();
  const notBefore = new Date(now - 86_400_000);
  const notAfter = new Date(now + 10 * 365 * 86_400_000);
  const ca = keyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.pub;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = notBefore;
  caCert.validity.notAfter = notAfter;
  const caName = [{ name: "commonName", value: "gitops-testbed-ca" }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  signCert(caCert, ca.priv);

  const leaf = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = leaf.pub;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: "commonName", value: "kube-apiserver" }]);
  cert.setIssuer(caName);
  const altNames = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h }));
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCert(cert, ca.priv);
  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: leaf.priv.export({ type: "pkcs1", format: "pem" }).toString(),
  };
}
