@seed @same-node @bpf-redirect @requires:bpftool @docs=network/ebpf/intro/
Feature: A same-node backend is delivered by bpf_redirect
  When the ClusterIP's backend is on the client's node, the tc program hands the packet straight
  to the backend's veth with bpf_redirect: it never crosses the node's eth0.

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
    And a ClusterIP service "echo-local" port 80 backed only by the replica of "echo" on node "control-plane"

  @requires:monitor
  Scenario: Same-node backend delivered by bpf_redirect
    When pod "client" sends 6 HTTP requests to service "echo-local"
    Then all 6 requests succeed
    And bpftool on node "control-plane" shows a program at tc ingress of the host veth of pod "client"
    And the program at tc ingress of the host veth of pod "client" calls "bpf_redirect"
    And cilium monitor on node "control-plane" shows the traffic from pod "client" redirected to a backend of "echo-local"
    And a capture on pod "client" eth0 sees the ClusterIP of "echo-local" as destination
    And a capture on node "control-plane" eth0 sees none of that traffic
