import type { Locale } from '../knowledge-base.js';

/**
 * The bot's own words: button labels, the answers to a press (a toast, 200 characters at most), the
 * replies to a reply, and the status lines under a message. Plain text, except the status lines,
 * which go into the message's HTML and are escaped where they are put.
 */
const TEXT = {
  ru: {
    acknowledge: 'Взять в работу',
    resolve: 'Решено',
    force: 'Решено всё равно',
    acknowledged: (id: number) => `Заявка #${id} взята в работу: она ваша.`,
    resolved: (id: number) => `Заявка #${id} решена.`,
    invalid: 'Эта кнопка недействительна.',
    unknownUser: (tg: number) =>
      `Ваш Telegram (id ${tg}) не привязан к пользователю TillWatch: попросите администратора указать telegram_id в auth.users.`,
    viewer: (name: string) =>
      `${name}: ваша роль только для просмотра, действовать с заявками может оператор.`,
    otherChain: (id: number) => `Заявка #${id} не из ваших сетей.`,
    gone: (id: number) => `Заявки #${id} больше нет.`,
    taken: (id: number, who: string) => `Заявка #${id} уже в работе у ${who}.`,
    alreadyResolved: (id: number) => `Заявка #${id} уже решена.`,
    notDone: (id: number, status: string) => `Заявка #${id}: действие не выполнено (статус ${status}).`,
    firing: (id: number, names: string) =>
      `Алерты заявки #${id} ещё активны: ${names}. «Решено всё равно» закроет её; она откроется снова, если они не утихнут.`,
    commented: (id: number) => `Комментарий записан в заявку #${id}.`,
    which: (ids: string) =>
      `В сообщении несколько заявок (${ids}): начните ответ с номера, например ${ids.split(',')[0]}.`,
    statusTaken: (id: number, who: string) => `👤 #${id}: в работе у ${who}`,
    statusResolved: (id: number, who: string) => `✅ #${id}: решил(а) ${who}`,
  },
  en: {
    acknowledge: 'Take it',
    resolve: 'Resolved',
    force: 'Resolve anyway',
    acknowledged: (id: number) => `Ticket #${id} is yours now.`,
    resolved: (id: number) => `Ticket #${id} resolved.`,
    invalid: 'This button is not valid.',
    unknownUser: (tg: number) =>
      `Your Telegram account (id ${tg}) is not linked to a TillWatch user: ask an administrator to set telegram_id in auth.users.`,
    viewer: (name: string) => `${name}: your role can only view tickets; an operator can act on them.`,
    otherChain: (id: number) => `Ticket #${id} is not in your chains.`,
    gone: (id: number) => `Ticket #${id} no longer exists.`,
    taken: (id: number, who: string) => `Ticket #${id} is already taken by ${who}.`,
    alreadyResolved: (id: number) => `Ticket #${id} is already resolved.`,
    notDone: (id: number, status: string) => `Ticket #${id}: not done (it is ${status}).`,
    firing: (id: number, names: string) =>
      `Alerts of ticket #${id} still fire: ${names}. "Resolve anyway" closes it; it reopens if they keep firing.`,
    commented: (id: number) => `Comment added to ticket #${id}.`,
    which: (ids: string) =>
      `This message lists several tickets (${ids}): start your reply with one of them, e.g. ${ids.split(',')[0]}.`,
    statusTaken: (id: number, who: string) => `👤 #${id}: taken by ${who}`,
    statusResolved: (id: number, who: string) => `✅ #${id}: resolved by ${who}`,
  },
} as const;

export type BotText = (typeof TEXT)[Locale];
export const botText = (locale: Locale): BotText => TEXT[locale];

/** Telegram shows at most 200 characters of a press's answer. */
export const ANSWER_MAX = 200;
export const cutAnswer = (s: string) => (s.length > ANSWER_MAX ? `${s.slice(0, ANSWER_MAX - 1)}…` : s);
