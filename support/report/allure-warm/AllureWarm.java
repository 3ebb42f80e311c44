/*
 * Allure 2's generator in a JVM started before the run's results exist (support/report/allure-warm.ts).
 * `allure generate` spends most of a second starting a JVM, loading and compiling its classes;
 * here that happens while the scenarios run: the generator renders a small sample once, then
 * waits for the real request and renders it with the same CommandLine the launcher uses.
 *
 * Exchange directory (args[0]): `sample/` holds the warm-up results; the caller writes `request`
 * (one argument per line, renamed into place) and this writes `done` (Allure's exit code). Output:
 * "ready" on stdout once warm, then Allure's own lines, then "done <code>".
 */
import io.qameta.allure.CommandLine;
import io.qameta.allure.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

public final class AllureWarm {
  private AllureWarm() {}

  public static void main(String[] args) throws Exception {
    Path home = Paths.get(System.getProperty("allure.home"));
    Path exchange = Paths.get(args[0]);
    String sample = exchange.resolve("sample").toString();
    String sampleOut = exchange.resolve("sample-report").toString();
    generate(home, new String[] {"generate", sample, "-o", sampleOut, "--clean"});
    System.out.println("ready");
    System.out.flush();
    Path request = exchange.resolve("request");
    while (!Files.exists(request)) Thread.sleep(10);
    List<String> lines = Files.readAllLines(request);
    int code = generate(home, lines.toArray(new String[0]));
    Path partial = exchange.resolve("done.partial");
    Files.writeString(partial, Integer.toString(code));
    Files.move(partial, exchange.resolve("done"), StandardCopyOption.ATOMIC_MOVE);
    System.out.println("done " + code);
    System.out.flush();
    System.exit(0);
  }

  private static int generate(Path home, String[] args) {
    CommandLine cl = new CommandLine(home);
    Optional<ExitCode> refused = cl.parse(args);
    return refused.orElseGet(cl::run).getCode();
  }
}
