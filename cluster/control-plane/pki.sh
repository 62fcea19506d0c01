# Certificates and kubeconfigs, written once into $STATE/pki (sourced by cluster/up).
# Two CAs as kubeadm makes them: the cluster CA signs every component's identity, the
# front-proxy CA signs only the client certificate kube-apiserver presents to aggregated
# APIs (metrics-server), which trust it through the requestheader settings.

# cert NAME CA SUBJECT EXTENSIONS: an EC key and a certificate signed by CA (or self-signed).
cert() {
  local name=$1 ca=$2 subj=$3 ext=$4 pki=$STATE/pki
  [ -e "$pki/$name.crt" ] && return
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key" 2>/dev/null
  if [ "$ca" = self ]; then
    openssl req -x509 -new -key "$pki/$name.key" -subj "$subj" -days 3650 -out "$pki/$name.crt" \
      -addext "$ext" 2>/dev/null
  else
    openssl req -new -key "$pki/$name.key" -subj "$subj" 2>/dev/null |
      openssl x509 -req -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial -days 365 \
        -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext") \
        -out "$pki/$name.crt" 2>/dev/null
  fi
}

# kubeconfig NAME CERT: a kubeconfig for identity CERT with everything embedded, so it can
# be copied anywhere.
kubeconfig() {
  local pki=$STATE/pki
  [ -e "$STATE/$1.kubeconfig" ] && return
  cat >"$STATE/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: items-api
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$pki/$2.crt")
    client-key-data: $(base64 -w0 "$pki/$2.key")
contexts:
- name: items-api
  context: {cluster: items-api, user: $2}
current-context: items-api
EOF
}

write_pki() {
  local client=extendedKeyUsage=clientAuth server=extendedKeyUsage=serverAuth
  mkdir -p "$STATE/pki" && chmod 700 "$STATE/pki"
  cert ca self /CN=items-api-cluster-ca "basicConstraints=critical,CA:TRUE"
  cert front-proxy-ca self /CN=items-api-front-proxy-ca "basicConstraints=critical,CA:TRUE"
  cert kube-apiserver ca /CN=kube-apiserver "$server
subjectAltName=IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  cert kubelet ca "/CN=$NODE_NAME" "$server
subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME"
  cert apiserver-kubelet-client ca /O=system:masters/CN=kube-apiserver-kubelet-client "$client"
  cert front-proxy-client front-proxy-ca /CN=front-proxy-client "$client"
  cert admin ca /O=system:masters/CN=kubernetes-admin "$client"
  cert controller-manager ca /CN=system:kube-controller-manager "$client"
  cert scheduler ca /CN=system:kube-scheduler "$client"
  cert node ca "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  cert kube-proxy ca /CN=system:kube-proxy "$client"
  [ -e "$STATE/pki/sa.key" ] || {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$STATE/pki/sa.key" 2>/dev/null
    openssl pkey -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub"
  }
  for id in admin controller-manager scheduler node kube-proxy; do kubeconfig "$id" "$id"; done
}
