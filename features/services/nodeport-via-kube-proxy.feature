@seed @kube-proxy @nodeport @severity:critical @docs=network/kubernetes/kubeproxy-free/
Feature: NodePort still goes through kube-proxy
  With kubeProxyReplacement=false, NodePort traffic is DNATed by kube-proxy's iptables chains:
  the KUBE-NODEPORTS jump and the KUBE-SEP DNAT counters rise on the node that owns the port.

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

  Scenario: NodePort from a node succeeds and kube-proxy's counters rise
    When node "control-plane" sends 6 HTTP requests to the NodePort of service "echo" on node "control-plane"
    Then all 6 requests succeed
    And the NodePort counters of service "echo" rise by at least 6 on node "control-plane"
    And the KUBE-SEP counters of service "echo" rise by at least 6 on node "control-plane"

  Scenario: NodePort from a pod succeeds and kube-proxy's counters rise on the target node
    When pod "client" sends 6 HTTP requests to the NodePort of service "echo" on node "worker"
    Then all 6 requests succeed
    And the NodePort counters of service "echo" rise by at least 6 on node "worker"
    And the KUBE-SEP counters of service "echo" rise by at least 6 on node "worker"
