@modes @kube-proxy-replacement @docs=network/kubernetes/kubeproxy-free/
Feature: Services without kube-proxy (kubeProxyReplacement=true): translated at the socket
  With kube-proxy replacement there is no kube-proxy on the nodes (kind's kubeProxyMode: none)
  and no KUBE-* chain at all: there are no kube-proxy counters to read. Cilium's socket-level
  load balancer rewrites a ClusterIP or NodePort destination when the client calls connect(),
  before any packet exists, so every capture — the pod's own eth0 included — sees the backend
  and never the ClusterIP (the opposite of kubeProxyReplacement=false), and the tc program on
  the host veth has nothing left to translate. The node's own traffic is translated the same
  way, and the agent reports KubeProxyReplacement True with the device NodePort is served on.
  Docs: https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/

  Background:
    Given a cluster from kind config "two-node-kpr.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | true       |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" on node "control-plane"
    And a ClusterIP service "echo-remote" port 80 backed only by the replica of "echo" on node "worker"

  Scenario: The agent reports kube-proxy replacement
    Then cilium status on every node reports kube-proxy replacement "True"

  @requires:capture
  Scenario: Every capture point sees the backend, the pod's own eth0 included
    When pod "client" sends 6 HTTP requests to service "echo-remote"
    Then all 6 requests succeed
    And a capture on pod "client" eth0 sees only backends of "echo-remote" as destination
    And a capture on the host veth of pod "client" sees only backends of "echo-remote" as destination
    And a capture on node "control-plane" eth0 sees only backends of "echo-remote" as destination

  @requires:monitor
  Scenario: The tc program translates nothing: the socket already did
    When pod "client" sends 6 HTTP requests to service "echo"
    Then all 6 requests succeed
    And cilium monitor on node "control-plane" shows no translation for traffic from pod "client"

  Scenario: The node's own traffic to the ClusterIP and to a NodePort succeeds without kube-proxy
    When node "control-plane" sends 6 HTTP requests to service "echo"
    Then all 6 requests succeed
    When node "control-plane" sends 6 HTTP requests to the NodePort of service "echo" on node "worker"
    Then all 6 requests succeed

  Scenario: A pod reaches a NodePort on another node without kube-proxy
    When pod "client" sends 6 HTTP requests to the NodePort of service "echo" on node "worker"
    Then all 6 requests succeed
