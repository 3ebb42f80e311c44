@seed @native-routing @severity:critical @docs=network/concepts/routing/
Feature: Native routing is in place before anything else is judged
  The seed's first check: the agent reports native routing with kube-proxy kept, and pod CIDRs
  route between nodes through the kernel's routing table, with no tunnel.

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

  Scenario: Cilium status reports native routing and kube-proxy replacement false
    Then cilium status on every node reports routing "Native"
    And cilium status on every node reports kube-proxy replacement "False"

  Scenario: Pod to pod across nodes succeeds over native routes
    When pod "client" sends 4 HTTP requests to the "echo" replica on node "worker"
    Then all 4 requests succeed
    And every node routes the pod CIDR of every other node via that node's IP
