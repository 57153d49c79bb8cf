// The settings every harness pipeline step shares: the step's map over the site's
// environment over these defaults (an empty value keeps the default, so job templates can
// pass every key). An unknown key stops the build: a misspelt setting must not be ignored.
// docs/jenkins.md lists every key.
import groovy.transform.Field

// The harness release this library version installs (`@Library('harness@v0.2')`).
@Field final String HARNESS_VERSION = '0.2.0'

Map call(Map args, String step) {
    Map defaults = [
        config: 'harness.yaml',                    // the team's harness.yaml, from the workspace root
        harness: "harness==${HARNESS_VERSION}",    // what pip installs: a pin, a wheel, a folder
        requirements: '',                          // the team's own requirements file, if any
        venv: env.HARNESS_VENV ?: '.harness-venv', // the virtualenv, in the workspace by default
        agent: 'harness',                          // the agent label the stages run on
        profile: [harnessPullRequest: 'pr', harnessNightly: 'nightly',
                  harnessPromote: 'release'][step],
        deploy: '',                                // nightly: deploy the build here first
        staging: 'staging',                        // promote: where the candidate is checked
        production: 'production',                  // promote: where it is promoted to
        approvers: 'release-managers',             // promote: who may answer the approval
        promotion: 'all-at-once',                  // promote: 'all-at-once' or 'canary' (traffic steps)
        canaryApproval: 'before-first',            // promote, canary: the approval 'before-first' or 'before-last' step
        repository: '',                            // a clone URL; default: the job's own SCM
        credentialsId: '',                         // the credential that reads `repository`
        branch: 'main',                            // the branch `repository` is built from
    ]
    Set unknown = args.keySet() - defaults.keySet()
    if (unknown) {
        error "${step}: unknown setting(s) ${unknown.sort().join(', ')}; known: " +
              defaults.keySet().sort().join(', ')
    }
    Map settings = defaults + args.findAll { it.value != null && it.value != '' }
    if (!(settings.promotion in ['all-at-once', 'canary'])) {
        error "${step}: promotion '${settings.promotion}' is not one of all-at-once, canary"
    }
    if (!(settings.canaryApproval in ['before-first', 'before-last'])) {
        error "${step}: canaryApproval '${settings.canaryApproval}' is not one of " +
              'before-first, before-last'
    }
    if (settings.canaryApproval == 'before-last' && settings.promotion != 'canary') {
        error "${step}: canaryApproval 'before-last' needs promotion 'canary' (an all-at-once " +
              'promotion has no last step to hold before)'
    }
    return settings
}
