//! Tasks and objectives: per team and status, and a page per task with its whole history.

use super::{cell, history_table, money, owner_link, task_link, Context, Sink};
use crate::rules::state::Task;
use crate::site::doc::{text, Block, Inline, Page, Table};
use crate::site::histories::Histories;
use crate::site::model::Told;
use crate::view::duration;
use crate::view::status::{Board, BoardTask};
use anyhow::Result;

fn person(who: &Option<String>) -> Vec<Inline> {
    who.as_deref().map_or_else(|| cell("-"), |h| vec![owner_link(h)])
}

fn sessions(task: &Task) -> u32 {
    task.closed_sessions + task.open_sessions
}

/// The tasks and objectives (`tasks/index`).
pub fn index(ctx: &Context) -> Page {
    let state = ctx.state;
    let mut page = Page::new("tasks/index", "Tasks and objectives");
    page.para(vec![text(
        "Every objective and task by team. A task's budget is paid 90% to its Attacker and 10% to its Defender, by the \
         share its assessment gives.",
    )]);
    for (team_id, team) in &state.teams {
        page.heading(format!("{} ({})", team.name, team.id));
        let objectives: Vec<_> = state.objectives.iter().filter(|(_, o)| o.team == *team_id).collect();
        if !objectives.is_empty() {
            let mut table = Table::new(format!("Objectives of {}", team.name), &["Objective", "Title", "Tasks#"]);
            for (key, o) in objectives {
                let count = state.tasks.values().filter(|t| t.objective == *key).count();
                table.row(vec![cell(&o.id), cell(&o.title), cell(count.to_string())]);
            }
            page.push(Block::Table(table));
        }
        let tasks: Vec<(&Task, &BoardTask)> = state
            .tasks
            .values()
            .zip(&ctx.board.tasks)
            .filter(|(t, _)| t.team == *team_id)
            .collect();
        if tasks.is_empty() {
            page.para(vec![text("No tasks yet.")]);
            continue;
        }
        let mut table = Table::new(
            format!("Tasks of {}", team.name),
            &["Task", "Title", "Status", "Budget#", "Attacker", "Defender", "Sessions#", "Worked#"],
        );
        for (task, b) in tasks {
            table.row(vec![
                vec![task_link(&b.task)],
                cell(&b.title),
                cell(b.describe()),
                cell(money(b.budget, "SC")),
                person(&b.attacker),
                person(&b.defender),
                cell(sessions(task).to_string()),
                cell(duration(b.worked_seconds)),
            ]);
        }
        page.push(Block::Table(table));
    }
    page
}

fn task_page(ctx: &Context, key: &str, task: &Task, b: &BoardTask, history: &[Told]) -> Page {
    let mut page = Page::new(&format!("tasks/{key}"), format!("Task {}: {}", b.task, b.title));
    let mut table = Table::new(format!("Task {}", b.task), &["What", "Value"]);
    let team = ctx.state.teams.get(&task.team).map_or(task.team.clone(), |t| t.name.clone());
    table.row(vec![cell("Team"), cell(team)]);
    let objective = ctx.state.objectives.get(&task.objective);
    table.row(vec![
        cell("Objective"),
        cell(objective.map_or(task.objective.clone(), |o| format!("{} {}", o.id, o.title))),
    ]);
    table.row(vec![cell("Status"), cell(b.describe())]);
    table.row(vec![cell("Size"), cell(&task.size)]);
    table.row(vec![cell("Budget"), cell(money(b.budget, "SC"))]);
    table.row(vec![cell("Attacker"), person(&b.attacker)]);
    table.row(vec![cell("Defender"), person(&b.defender)]);
    table.row(vec![cell("Sessions"), cell(sessions(task).to_string())]);
    table.row(vec![cell("Worked"), cell(duration(b.worked_seconds))]);
    if let Some(p) = &task.pending {
        table.row(vec![cell("Assessed share"), cell(format!("{}%", p.share))]);
        table.row(vec![cell("Pending SC"), cell(money(p.attacker_left.plus(p.defender_left), "SC"))]);
    }
    page.push(Block::Table(table));
    page.heading("History");
    page.push(Block::Table(history_table(format!("Every row about {}", b.task), history)));
    page.para(vec![
        text("Back to "),
        crate::site::doc::link("all tasks", "tasks/index"),
        text("."),
    ]);
    page
}

/// Hands to `sink` the page of each task that got rows in this build or whose line on the
/// board changed since `before` (every task, without one).
pub fn each_page(ctx: &Context, histories: &mut Histories, before: Option<&Board>, sink: &mut dyn Sink) -> Result<()> {
    let unchanged = |b: &BoardTask| before.is_some_and(|old| old.tasks.iter().any(|o| o == b));
    // The board lists the state's tasks in the same (key) order.
    for ((key, task), b) in ctx.state.tasks.iter().zip(&ctx.board.tasks) {
        if !histories.touched().contains(key) && unchanged(b) {
            continue;
        }
        let history = histories.history(key)?;
        sink.page(task_page(ctx, key, task, b, &history))?;
    }
    Ok(())
}
