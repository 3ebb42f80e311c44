@seed @clusterip @service-translation @severity:critical @docs=network/kubernetes/kubeproxy-free/
Feature: Pod to ClusterIP is translated at tc before iptables sees it
  Cilium rewrites the ClusterIP to a backend pod IP in its tc program on the pod's host veth,
  so kube-proxy's rules for the service never count the traffic. That is expected in this mode,
  not a fault. Traffic from the node itself has no tc hook and still goes through kube-proxy.

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

  Scenario: Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat
    When pod "client" sends 10 HTTP requests to service "echo"
    Then all 10 requests succeed
    And every request is answered by a backend of service "echo"
    And the KUBE-SVC and KUBE-SEP counters of service "echo" stay flat on every node

  @requires:monitor
  Scenario: cilium monitor shows the ClusterIP translated to a backend
    When pod "client" sends 6 HTTP requests to service "echo"
    Then all 6 requests succeed
    And cilium monitor on node "control-plane" shows traffic from pod "client" to the ClusterIP of "echo" translated to a backend of "echo"

  Scenario: Node to ClusterIP goes through kube-proxy in this mode
    When node "control-plane" sends 6 HTTP requests to service "echo"
    Then all 6 requests succeed
    And the KUBE-SVC counters of service "echo" rise by at least 6 on node "control-plane"
