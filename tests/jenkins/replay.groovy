/*
 * Replays a Jenkins declarative pipeline for the harness's tests, from its real Groovy: the
 * Jenkinsfile and the shared library's vars/ run here as Jenkins would run them, with the
 * steps they use emulated. `sh` runs for real (`sh -xe` from the workspace, with the
 * pipeline's environment), `checkout` clones for real, `stash`/`unstash` copy files,
 * `junit`, `archiveArtifacts` and `publishHTML` record what they would publish, and an
 * `input` is answered by the replay's approver (or aborts the build when there is none).
 * Declarative semantics are kept: stages run in order, `when` is evaluated, a failing step
 * fails its stage and the build, later stages are skipped, post conditions run by the
 * build's or stage's result (`always`, `aborted`, `failure`, `success`, `unsuccessful`,
 * `cleanup`, in Jenkins' order). `script` runs its block; `node` runs its block in the same
 * workspace; `env.NAME = value` sets NAME for the rest of the build, below the
 * `environment` directives (as Jenkins gives those precedence).
 *
 *     groovy replay.groovy REQUEST.json
 *
 * REQUEST: {"jenkinsfile": path, "library": folder with vars/ and resources/,
 *           "workspace": folder, "env": {...}, "params": {...},
 *           "scm": {"url": ..., "branch": ...}, "approver": name or null, "result": path}
 * The result file: {"result", "library", "stages": [{"name", "status", "steps"}],
 *                   "published": [{"step", ...}], "console": path}.
 * A step the harness's pipelines do not use is not emulated: calling one fails the replay.
 */

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.codehaus.groovy.control.CompilerConfiguration

import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.util.regex.Pattern

class StepFailed extends RuntimeException {
    StepFailed(String message) { super(message) }
}

/** The build being replayed: its workspace, environment, stages as they ran, publications. */
class Build {
    File workspace
    File library
    File console
    File stashes
    Map<String, String> baseEnv = [:]
    Map params = [:]
    Map scm
    String approver
    String result = 'SUCCESS'
    List<Map> stages = []
    List<Map> published = []
    List<Map<String, String>> scopes = []   // pipeline, stage and input environments
    Map<String, String> assigned = [:]      // `env.NAME = value` in pipeline code
    Map current                               // the stage whose steps are running
    int stepNumber = 0

    Map<String, String> environment() {
        Map<String, String> merged = new LinkedHashMap(baseEnv)
        params.each { k, v -> merged[k as String] = v == null ? '' : v.toString() }
        merged.putAll(assigned)
        scopes.each { merged.putAll(it) }
        return merged
    }

    void record(Map step) {
        (current == null ? published : current.steps) << step
        if (current != null && step.step in ['junit', 'archiveArtifacts', 'publishHTML']) {
            published << step
        }
    }

    int sh(String script) {
        stepNumber++
        File file = new File(stashes.parentFile, "step-${stepNumber}.sh")
        file.text = script
        List<String> command = script.startsWith('#!') ? [file.path] : ['/bin/sh', '-xe', file.path]
        file.setExecutable(true)
        ProcessBuilder builder = new ProcessBuilder(command).directory(workspace)
                .redirectErrorStream(true)
        builder.environment().clear()
        builder.environment().putAll(environment())
        console << "+ [sh] ${script.readLines().find { it.trim() && !it.startsWith('#') } ?: ''}\n"
        Process process = builder.start()
        StringBuilder output = new StringBuilder()
        process.inputStream.eachLine { line ->
            output.append(line).append('\n')
            console << line << '\n'
        }
        int exit = process.waitFor()
        String tail = output.readLines().takeRight(40).join('\n')
        record([step: 'sh', script: script, exit: exit, output: tail])
        if (exit != 0) {
            throw new StepFailed("script returned exit code ${exit}")
        }
        return exit
    }

    void checkout(String url, String branch) {
        if (!new File(workspace, '.git').exists()) {
            git(['git', 'clone', '--quiet', '--branch', branch, url, workspace.path], null)
        } else {
            git(['git', 'fetch', '--quiet', url, branch], workspace)
            git(['git', 'checkout', '--quiet', '--force', 'FETCH_HEAD'], workspace)
        }
        record([step: 'checkout', url: url, branch: branch])
    }

    private void git(List<String> command, File where) {
        workspace.mkdirs()
        Process process = new ProcessBuilder(command).directory(where ?: workspace.parentFile)
                .redirectErrorStream(true).start()
        String output = process.inputStream.text
        if (process.waitFor() != 0) {
            throw new StepFailed("${command.join(' ')} failed: ${output.trim()}")
        }
    }

    /** Files of the workspace an Ant-style pattern (as Jenkins' steps take) matches. */
    List<String> matching(String patterns) {
        List<Pattern> regexes = patterns.split(',').collect { antRegex(it.trim()) }
        List<String> found = []
        // Walk only below each pattern's literal folders (not the whole virtualenv).
        patterns.split(',').collect { it.trim() }.each { String pattern ->
            List<String> literal = pattern.split('/').toList().takeWhile { !(it =~ /[*?]/) }
            File top = new File(workspace, literal.size() == pattern.split('/').size()
                    ? literal.dropRight(1).join('/') : literal.join('/'))
            if (!top.isDirectory()) {
                return
            }
            top.eachFileRecurse(groovy.io.FileType.FILES) { File f ->
                String relative = workspace.toPath().relativize(f.toPath()).toString()
                if (regexes.any { it.matcher(relative).matches() } && !(relative in found)) {
                    found << relative
                }
            }
        }
        return found.sort()
    }

    static Pattern antRegex(String pattern) {
        String p = pattern.endsWith('/') ? pattern + '**' : pattern
        StringBuilder regex = new StringBuilder()
        int i = 0
        while (i < p.length()) {
            if (p.startsWith('**/', i)) { regex.append('(?:.*/)?'); i += 3 }
            else if (p.startsWith('**', i)) { regex.append('.*'); i += 2 }
            else if (p.charAt(i) == '*' as char) { regex.append('[^/]*'); i++ }
            else if (p.charAt(i) == '?' as char) { regex.append('[^/]'); i++ }
            else { regex.append(Pattern.quote(p.charAt(i) as String)); i++ }
        }
        return Pattern.compile(regex.toString())
    }

    void stash(String name, String includes) {
        File folder = new File(stashes, name)
        folder.deleteDir()
        List<String> files = matching(includes)
        if (!files) {
            throw new StepFailed("stash '${name}': no files match ${includes}")
        }
        files.each { copy(new File(workspace, it), new File(folder, it)) }
        record([step: 'stash', name: name, files: files.size()])
    }

    void unstash(String name) {
        File folder = new File(stashes, name)
        if (!folder.exists()) {
            throw new StepFailed("No such saved stash '${name}'")
        }
        int count = 0
        folder.eachFileRecurse(groovy.io.FileType.FILES) { File f ->
            copy(f, new File(workspace, folder.toPath().relativize(f.toPath()).toString()))
            count++
        }
        record([step: 'unstash', name: name, files: count])
    }

    private static void copy(File from, File to) {
        to.parentFile.mkdirs()
        Files.copy(from.toPath(), to.toPath(), StandardCopyOption.REPLACE_EXISTING)
    }
}

/** `env` as pipeline code sees it: the environment of the step running now. */
class EnvView extends GroovyObjectSupport {
    Build build
    Object getProperty(String name) { build.environment()[name] }
    void setProperty(String name, Object value) { build.assigned[name] = value as String }
}

/** Steps: what pipeline code (a Jenkinsfile, a vars/ step) may call. */
abstract class PipelineScript extends Script {
    static Build build

    def pipeline(Closure body) { new Declarative(build).run(body) }
    def sh(String script) { build.sh(script) }
    def echo(Object message) { build.console << "${message}\n" }
    def error(Object message) { throw new StepFailed(message as String) }
    def script(Closure body) { body() }
    def node(String label, Closure body) {
        build.console << "Running on agent-1 (${label}) in ${build.workspace}\n"
        body()
    }
    def libraryResource(String path) { new File(build.library, "resources/${path}").text }

    def checkout(Object spec) {
        if (spec instanceof Map && spec.userRemoteConfigs) {
            build.checkout(spec.userRemoteConfigs[0].url as String,
                           (spec.branches?.getAt(0)?.name ?: 'main') as String)
        } else if (spec instanceof Map && spec.url) {
            build.checkout(spec.url as String, spec.branch as String)
        } else {
            throw new StepFailed("checkout of ${spec} is not emulated")
        }
    }

    def junit(Map args) {
        build.record([step: 'junit', testResults: args.testResults,
                      keepProperties: args.keepProperties ?: false,
                      allowEmptyResults: args.allowEmptyResults ?: false,
                      files: build.matching(args.testResults as String)])
    }

    def archiveArtifacts(Map args) {
        build.record([step: 'archiveArtifacts', artifacts: args.artifacts,
                      files: build.matching(args.artifacts as String).size()])
    }

    def publishHTML(Map args) {
        Map target = args.target as Map
        File page = new File(build.workspace, "${target.reportDir}/${target.reportFiles}")
        build.record([step: 'publishHTML', reportName: target.reportName,
                      reportDir: target.reportDir as String, reportFiles: target.reportFiles,
                      exists: page.isFile()])
    }

    /** `library identifier: ..., retriever: legacySCM(scm)`: the replay's library. */
    def library(Map args) { build.record([step: 'library', identifier: args.identifier]) }
    def legacySCM(Object scm) { scm }

    def stash(Map args) { build.stash(args.name as String, args.includes as String) }
    def unstash(String name) { build.unstash(name) }
}

/** Collects a declarative section's directives: `agent`, `options`, `stages`, `post`... */
class Section {
    Object agent
    List<String> options = []
    Closure environment
    Closure when
    Map input
    Closure steps
    List<Section> stages
    Map<String, Closure> post = [:]
    List<Map> parameters = []
    String name

    static final Object NONE = 'none'
    static final Object ANY = 'any'

    Object getNone() { NONE }
    Object getAny() { ANY }

    void agent(Object spec) { agent = spec }
    void agent(Closure spec) { agent = 'label' }
    void options(Closure body) { options.addAll(new Recorder().collect(body)) }
    void triggers(Closure body) { new Recorder().collect(body) }
    void environment(Closure body) { environment = body }
    void when(Closure body) { when = body }
    void steps(Closure body) { steps = body }
    void parameters(Closure body) { parameters.addAll(new Recorder().calls(body)) }
    void input(Closure body) { input = new Recorder().values(body) }
    void stages(Closure body) { stages = new StageList().collect(body) }
    void post(Closure body) { post = new Recorder().blocks(body) }
}

/** `stages { stage('A') { ... } ... }` */
class StageList {
    List<Section> found = []

    List<Section> collect(Closure body) {
        body.delegate = this
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body()
        return found
    }

    void stage(String name, Closure body) {
        Section section = new Section(name: name)
        body.delegate = section
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body()
        found << section
    }
}

/** Sections whose content only needs recording: options, parameters, input, post. */
class Recorder {
    List<Map> made = []
    Map<String, Object> assigned = [:]
    Map<String, Closure> closures = [:]

    private void run(Closure body) {
        body.delegate = this
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body()
        // Blocks kept for later (post conditions) call steps: this recorder must not
        // swallow them, so the section's own names resolve through its owner from now on.
        body.resolveStrategy = Closure.OWNER_ONLY
    }

    List<String> collect(Closure body) { run(body); made.collect { it.name as String } }
    List<Map> calls(Closure body) { run(body); made }
    Map values(Closure body) { run(body); assigned }
    Map<String, Closure> blocks(Closure body) { run(body); closures }

    Object methodMissing(String name, Object args) {
        Object[] given = args as Object[]
        if (given.length == 1 && given[0] instanceof Closure) {
            closures[name] = given[0] as Closure
        } else if (given.length == 1 && !(given[0] instanceof Map)) {
            assigned[name] = given[0]
        }
        Map call = [name: name, args: given.findAll { !(it instanceof Closure) }]
        made << call
        return call
    }
}

/** `environment { NAME = "value" }` */
class EnvBlock {
    Map<String, String> values = [:]
    void propertyMissing(String name, Object value) { values[name] = value as String }
}

/** `when { expression { ... } }` */
class WhenBlock {
    List<Closure> conditions = []
    void expression(Closure condition) { conditions << condition }
}

/** Runs a declarative pipeline the way Jenkins orders it. */
class Declarative {
    Build build

    Declarative(Build build) { this.build = build }

    void run(Closure body) {
        Section pipeline = new Section(name: 'pipeline')
        body.delegate = pipeline
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body()
        pipeline.parameters.findAll { it.name == 'string' }.each { Map p ->
            Map spec = p.args[0] as Map
            if (!build.params.containsKey(spec.name)) {
                build.params[spec.name] = spec.defaultValue ?: ''
            }
        }
        boolean checkoutOnAgent = !('skipDefaultCheckout' in pipeline.options)
        build.scopes << evaluate(pipeline.environment)
        if (pipeline.agent != Section.NONE && checkoutOnAgent) {
            defaultCheckout()
        }
        runStages(pipeline.stages, checkoutOnAgent)
        runPost(pipeline.post, build.result)
    }

    private Map<String, String> evaluate(Closure environment) {
        if (environment == null) {
            return [:]
        }
        EnvBlock block = new EnvBlock()
        environment.delegate = block
        environment.resolveStrategy = Closure.DELEGATE_FIRST
        environment()
        return block.values
    }

    private void defaultCheckout() {
        build.current = null
        build.checkout(build.scm.url as String, build.scm.branch as String)
    }

    private void runStages(List<Section> stages, boolean checkoutOnAgent) {
        stages.each { runStage(it, checkoutOnAgent) }
    }

    private void skip(Section stage, String why) {
        build.stages << [name: stage.name, status: why, steps: []]
        stage.stages?.each { skip(it, why) }
    }

    private void runStage(Section stage, boolean checkoutOnAgent) {
        if (build.result != 'SUCCESS') {
            skip(stage, 'skipped: an earlier stage failed')
            return
        }
        if (stage.when != null) {
            WhenBlock conditions = new WhenBlock()
            stage.when.delegate = conditions
            stage.when.resolveStrategy = Closure.DELEGATE_FIRST
            stage.when.call()
            if (!conditions.conditions.every { it.call() }) {
                skip(stage, 'skipped: when')
                return
            }
        }
        Map record = [name: stage.name, status: 'running', steps: []]
        build.stages << record
        Map<String, String> scope = [:]
        if (stage.input != null) {
            record.input = stage.input.collectEntries { k, v -> [k, v as String] }
            if (!build.approver) {
                record.status = 'aborted: nobody answered the input'
                build.result = 'ABORTED'
                return
            }
            if (stage.input.submitterParameter) {
                scope[stage.input.submitterParameter as String] = build.approver
            }
        }
        build.scopes << scope
        build.scopes << evaluate(stage.environment)
        boolean passed = true
        try {
            if (stage.agent != null && checkoutOnAgent) {
                defaultCheckout()
            }
            if (stage.steps != null) {
                build.current = record
                stage.steps.call()
            }
            if (stage.stages != null) {
                runStages(stage.stages, checkoutOnAgent)
                passed = build.result == 'SUCCESS'
            }
        } catch (StepFailed failure) {
            passed = false
            record.error = failure.message
            build.result = 'FAILURE'
        } finally {
            build.current = null
        }
        record.status = passed ? 'success' : 'failure'
        build.current = record
        runPost(stage.post, passed ? 'SUCCESS' : build.result)
        build.current = null
        build.scopes.remove(build.scopes.size() - 1)
        build.scopes.remove(build.scopes.size() - 1)
    }

    private void runPost(Map<String, Closure> post, String result) {
        List<String> conditions = ['always']
        conditions += [ABORTED: ['aborted'], FAILURE: ['failure'], SUCCESS: ['success']][result] ?: []
        conditions += result == 'SUCCESS' ? [] : ['unsuccessful']
        conditions << 'cleanup'
        conditions.each { String condition ->
            Closure block = post[condition]
            if (block == null) {
                return
            }
            try {
                block()
            } catch (StepFailed failure) {
                build.result = 'FAILURE'
                build.published << [step: "post ${condition}", error: failure.message]
            }
        }
    }
}

Map request = new JsonSlurper().parse(new File(args[0])) as Map
File resultFile = new File(request.result as String)
resultFile.parentFile.mkdirs()
Build build = new Build(workspace: new File(request.workspace as String),
                        library: new File(request.library as String),
                        console: new File(resultFile.parentFile, 'console.log'),
                        stashes: new File(resultFile.parentFile, 'stashes'),
                        baseEnv: request.env as Map, params: (request.params ?: [:]) as Map,
                        scm: request.scm as Map, approver: request.approver as String)
build.console.text = ''
build.stashes.mkdirs()
PipelineScript.build = build

CompilerConfiguration compiler = new CompilerConfiguration()
compiler.scriptBaseClass = PipelineScript.name
Binding binding = new Binding()
binding.setVariable('env', new EnvView(build: build))
binding.setVariable('params', build.params)
binding.setVariable('scm', build.scm)
GroovyShell shell = new GroovyShell(this.class.classLoader, binding, compiler)

// The shared library's global steps: vars/NAME.groovy is the step NAME, its call() the body.
new File(build.library, 'vars').listFiles().findAll { it.name.endsWith('.groovy') }.each { File f ->
    Script step = shell.parse(f)
    step.binding = binding
    binding.setVariable(f.name - '.groovy', { Object... given -> step.invokeMethod('call', given) })
}

// `@Library('harness@v0.2') _` loads the library: the replay's library stands for it.
String text = new File(request.jenkinsfile as String).text
List<String> libraries = []
text = text.replaceAll(/@Library\((['"])([^'"]+)\1\)\s*_/) { all, quote, name ->
    libraries << name
    ''
}
String failure = null
try {
    shell.parse(text, 'Jenkinsfile').run()
} catch (StepFailed e) {
    build.result = 'FAILURE'
    failure = e.message
}
resultFile.text = JsonOutput.prettyPrint(JsonOutput.toJson([
    result: build.result, error: failure, library: libraries, stages: build.stages,
    published: build.published, console: build.console.path,
]))
