"""A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI, for the
tests that run tests/kube_apiserver over TLS (kubectl sends bearer tokens only over TLS)."""
import os
import subprocess


def make_certs(tmp):
    """Writes ca.pem, server.pem and server-key.pem into `tmp`."""
    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1",
         "-subj", "/CN=meshctl-test-ca")
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
         "-out", "server.pem", "-days", "1", "-extfile", "san.ext")
