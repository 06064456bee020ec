//! Flagger's scheduler replayed run by run (scheduler.go `advanceCanary`, `runCanary`, `runAB`,
//! `runBlueGreen`, `runPromotionTrafficShift`) on the shortest path: every check passes, every
//! gate approves, every workload is ready when asked.
//!
//! Run 0 is the run that sees a new revision: it calls the confirm-rollout gates, scales the
//! canary up and sets the phase to Progressing, and returns. Every later run is one interval
//! apart. A step's `weight` is the split the run leaves behind, so the checks of run `k + 1`
//! measure the traffic of step `k`.

use super::duration::{fmt_seconds, whole_seconds};
use super::resolve::{Effective, Router};
use super::{HookCall, MetricCheck, Note, NoteLevel, Stage, Step};

/// Enough for stepWeight 1 to 100, or a thousand iterations; a plan that long is cut.
const MAX_RUNS: usize = 1000;

pub(crate) struct Timeline {
    pub steps: Vec<Step>,
    pub promotion_after_seconds: Option<u64>,
    pub completed_after_seconds: Option<u64>,
    pub stalls_at_step: Option<usize>,
    pub routes_at_step: usize,
    pub notes: Vec<Note>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Progressing,
    Promoting,
    Finalising,
}

/// What the scheduler reads back from the router (`GetRoutes`) and from the status.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    phase: Phase,
    canary: i64,
    primary: i64,
    mirrored: bool,
    iterations: i64,
}

struct Run<'e> {
    e: &'e Effective,
    hooks: Vec<HookCall>,
    metrics: Vec<MetricCheck>,
    action: Vec<String>,
}

impl<'e> Run<'e> {
    fn new(e: &'e Effective) -> Self {
        Run {
            e,
            hooks: Vec::new(),
            metrics: Vec::new(),
            action: Vec::new(),
        }
    }

    fn call(&mut self, type_: &str) {
        for name in self.e.hooks_of(type_) {
            self.hooks.push(HookCall {
                name: name.to_string(),
                type_: type_.to_string(),
            });
        }
    }

    fn analyse(&mut self) {
        self.call("rollout");
        for m in &self.e.metrics {
            self.metrics.push(MetricCheck {
                name: m.name.clone(),
                interval: m.interval.clone(),
            });
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.action.push(text.into());
    }
}

/// `SetRoutes` as the router applies it, seen through the next `GetRoutes`.
fn set_routes(e: &Effective, st: &mut State, primary: i64, canary: i64, mirror: bool) {
    if e.router == Router::Kubernetes {
        // The kubernetes provider's mesh router reports no weights; the apex Service keeps
        // selecting the primary.
        return;
    }
    st.primary = primary;
    st.canary = canary;
    st.mirrored = mirror && e.mirror_applies();
}

pub(crate) fn simulate(e: &Effective) -> Timeline {
    let at = |run: usize| whole_seconds(run as f64 * e.interval);
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let target = format!("{} {}", e.target_kind, e.target_name);
    let primary_target = format!("{}-primary", e.target_name);

    let mut run0 = Run::new(e);
    run0.call("confirm-rollout");
    if !run0.hooks.is_empty() {
        run0.say("wait for the confirm-rollout gates");
    }
    run0.say(format!(
        "new revision detected: scale {target} up from zero"
    ));
    steps.push(Step {
        index: 0,
        at_seconds: 0,
        stage: Stage::Detect,
        weight: 0,
        primary_weight: 100,
        mirrored: false,
        mirror_weight: None,
        hooks: run0.hooks,
        metrics: run0.metrics,
        action: run0.action.join("; "),
    });

    let mut st = State {
        phase: Phase::Progressing,
        canary: 0,
        primary: 100,
        mirrored: false,
        iterations: 0,
    };
    let mut gate_run: Option<usize> = None;
    let mut promotion = None;
    let mut completed = None;
    let mut stall = None;

    for run in 1..=MAX_RUNS {
        let before = st.clone();
        let mut r = Run::new(e);
        if e.skip_analysis {
            // shouldSkipAnalysis: no rollback hooks, no analysis, no post-rollout hooks.
            set_routes(e, &mut st, 100, 0, false);
            r.say(format!(
                "skipAnalysis: route all traffic to the primary, copy {target} to {primary_target}, scale the canary down; Succeeded"
            ));
            promotion = Some(at(run));
            completed = Some(at(run));
            steps.push(step(run, at(run), Stage::Skip, &st, e, r));
            break;
        }
        match st.phase {
            Phase::Promoting => {
                let swp = e.step_weight_promotion;
                if e.router == Router::Kubernetes {
                    r.say(format!(
                        "{primary_target} runs the new version; the kubernetes provider has no traffic to shift"
                    ));
                    st.phase = Phase::Finalising;
                } else if swp == 0 {
                    set_routes(e, &mut st, 100, 0, false);
                    r.say(format!(
                        "route all traffic back to {}, now running the new version",
                        e.primary_name()
                    ));
                    st.phase = Phase::Finalising;
                } else if st.canary > 0 {
                    let p = (st.primary + swp).min(100);
                    let c = (st.canary - swp).max(0);
                    set_routes(e, &mut st, p, c, false);
                    if p == 100 {
                        r.say("route the last of the traffic back to the primary");
                        st.phase = Phase::Finalising;
                    } else {
                        r.say(format!("promotion step: primary weight {p}% (+{swp})"));
                    }
                } else {
                    r.say("the canary weight is 0, so stepWeightPromotion never moves traffic");
                }
                steps.push(step(run, at(run), Stage::PromotionStep, &st, e, r));
                if st == before {
                    stall = Some(run);
                    break;
                }
                continue;
            }
            Phase::Finalising => {
                r.call("post-rollout");
                r.say(format!(
                    "scale {target} down to zero; the rollout has Succeeded"
                ));
                completed = Some(at(run));
                steps.push(step(run, at(run), Stage::Finalise, &st, e, r));
                break;
            }
            Phase::Progressing => {}
        }

        // advanceCanary: skip the analysis while nothing reaches the canary.
        let mut this_stage = if st.canary == 0 && st.iterations == 0 && !(e.mirror && st.mirrored) {
            r.call("pre-rollout");
            Stage::Start
        } else {
            r.analyse();
            Stage::Analysis
        };

        if e.iterations > 0 && e.has_match() {
            // runAB
            if e.iterations > st.iterations {
                set_routes(e, &mut st, 0, 100, false);
                st.iterations += 1;
                if st.iterations == 1 {
                    r.say(format!(
                        "iteration 1/{}: requests that match analysis.match go to the canary",
                        e.iterations
                    ));
                } else {
                    r.say(format!("iteration {}/{}", st.iterations, e.iterations));
                }
            } else {
                gate_run.get_or_insert(run);
                r.call("confirm-promotion");
                if e.iterations == st.iterations {
                    r.say(format!("promote: copy {target} to {primary_target}"));
                    st.phase = Phase::Promoting;
                    promotion = Some(at(run));
                    this_stage = Stage::Promote;
                }
            }
        } else if e.iterations > 0 {
            // runBlueGreen
            if e.iterations > st.iterations {
                let mut started = false;
                if e.router != Router::Kubernetes && e.mirror && !st.mirrored {
                    set_routes(e, &mut st, 100, 0, true);
                    started = st.mirrored;
                }
                st.iterations += 1;
                r.say(format!("iteration {}/{}", st.iterations, e.iterations));
                if started {
                    r.say("start mirroring live traffic to the canary");
                }
            } else {
                gate_run.get_or_insert(run);
                r.call("confirm-promotion");
                if e.iterations == st.iterations {
                    if e.router != Router::Kubernetes {
                        let was_mirrored = st.mirrored;
                        set_routes(e, &mut st, 0, 100, false);
                        r.say(if was_mirrored {
                            "stop mirroring; route all traffic to the canary"
                        } else {
                            "route all traffic to the canary"
                        });
                    } else {
                        r.say("iterations done; the kubernetes provider switches no traffic");
                    }
                    st.iterations += 1;
                } else {
                    r.say(format!("promote: copy {target} to {primary_target}"));
                    st.phase = Phase::Promoting;
                    promotion = Some(at(run));
                    this_stage = Stage::Promote;
                }
            }
        } else {
            let next = e.next_step_weight(st.canary);
            if next > 0 {
                if !st.mirrored {
                    r.call("confirm-traffic-increase");
                }
                // runCanary
                if st.canary < e.max_weight() {
                    if e.mirror && st.canary == 0 {
                        if !st.mirrored {
                            set_routes(e, &mut st, 100, 0, true);
                            r.say(if st.mirrored {
                                "mirror live traffic to the canary (the primary still answers)"
                            } else {
                                "ask the router to mirror traffic to the canary; it adds no mirror"
                            });
                        } else {
                            set_routes(e, &mut st, 100 - next, next, false);
                            r.say(format!("stop mirroring; route {next}% to the canary"));
                        }
                    } else {
                        let p = (st.primary - next).max(0);
                        let c = (st.canary + next).min(100);
                        set_routes(e, &mut st, p, c, false);
                        r.say(format!("route {c}% to the canary"));
                    }
                } else {
                    gate_run.get_or_insert(run);
                    r.call("confirm-promotion");
                    r.say(format!("promote: copy {target} to {primary_target}"));
                    st.phase = Phase::Promoting;
                    promotion = Some(at(run));
                    this_stage = Stage::Promote;
                }
            } else {
                r.say(format!(
                    "the next step weight is {next}, so Flagger does not advance"
                ));
            }
        }
        let stage = this_stage;
        let unchanged = st == before;
        if unchanged {
            r.say("this run repeats every interval: the canary never advances");
        }
        steps.push(step(run, at(run), stage, &st, e, r));
        if unchanged {
            stall = Some(run);
            break;
        }
    }

    if completed.is_none() && stall.is_none() {
        notes.push(Note {
            level: NoteLevel::Warning,
            text: format!("the plan stops after {MAX_RUNS} runs without finishing the rollout"),
        });
    }
    if let Some(s) = stall {
        notes.push(Note {
            level: NoteLevel::Blocker,
            text: format!(
                "Flagger never finishes this rollout: step {s} repeats every {} (until the progress deadline or a rollback)",
                fmt_seconds(whole_seconds(e.interval))
            ),
        });
    }

    // The generated routes are shown as they stand during the last analysed interval before
    // the promotion gate: the peak of the canary's exposure for weighted canaries, the last
    // iteration for Blue/Green and A/B testing.
    let routes_at_step = match (gate_run, stall) {
        (Some(g), _) => g.saturating_sub(1),
        (None, Some(s)) => s,
        (None, None) => steps.len().saturating_sub(1),
    };

    Timeline {
        steps,
        promotion_after_seconds: promotion,
        completed_after_seconds: completed,
        stalls_at_step: stall,
        routes_at_step,
        notes,
    }
}

fn step(
    index: usize,
    at_seconds: u64,
    stage: Stage,
    st: &State,
    e: &Effective,
    r: Run<'_>,
) -> Step {
    let mirror_weight = st.mirrored.then(|| {
        if e.router == Router::Istio && e.mirror_weight > 0 {
            e.mirror_weight.clamp(0, 100) as u32
        } else {
            100
        }
    });
    Step {
        index,
        at_seconds,
        stage,
        weight: st.canary.clamp(0, 100) as u32,
        primary_weight: st.primary.clamp(0, 100) as u32,
        mirrored: st.mirrored,
        mirror_weight,
        hooks: r.hooks,
        metrics: r.metrics,
        action: r.action.join("; "),
    }
}
