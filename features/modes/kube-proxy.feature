@modes @kube-proxy @docs=network/kubernetes/kubeproxy-free/
Feature: Services with kube-proxy beside Cilium (kubeProxyReplacement=false)
  The contrast to kube-proxy replacement, in the same words. With kube-proxy on the nodes, a
  pod's traffic to a ClusterIP leaves the pod still addressed to the ClusterIP and is rewritten
  per packet by Cilium's tc program on the host veth; the node's own traffic and every NodePort
  go through kube-proxy's iptables chains, whose counters move. The agent reports
  KubeProxyReplacement False. Docs: https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/

  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" on node "control-plane"

  Scenario: The agent reports that kube-proxy keeps the services
    Then cilium status on every node reports kube-proxy replacement "False"

  @requires:capture
  Scenario: The pod's own capture still sees the ClusterIP: translation happens per packet at tc
    When pod "client" sends 6 HTTP requests to service "echo"
    Then all 6 requests succeed
    And a capture on pod "client" eth0 sees the ClusterIP of "echo" as destination
    And the KUBE-SVC and KUBE-SEP counters of service "echo" stay flat on every node

  Scenario: The node's own traffic to the ClusterIP moves kube-proxy's counters
    When node "control-plane" sends 6 HTTP requests to service "echo"
    Then all 6 requests succeed
    And the KUBE-SVC counters of service "echo" rise by at least 6 on node "control-plane"

  Scenario: NodePort moves kube-proxy's NodePort counters
    When node "control-plane" sends 6 HTTP requests to the NodePort of service "echo" on node "worker"
    Then all 6 requests succeed
    And the NodePort counters of service "echo" rise by at least 6 on node "worker"
