"""The sample generator's intents per industry, and non-English openings.

Text bank of the synthetic support exports (see :mod:`taxonomy.samples.generate`).

Every phrasing here was written for this project by hand; none is a paraphrase of a
public intent or dialogue dataset. (The bundled fintech customer may instead draw its
texts from Banking77, CC BY 4.0: that happens in :mod:`taxonomy.samples.generate`, with
attribution.) The tier of each intent follows ``TIERS.md``: ``informational`` is the
same answer for everyone, ``personalized`` reads the end-user's own records,
``action_led`` changes something.

Each industry maps intent -> ``(tier, weight, phrasings)``. ``weight`` is the intent's
relative frequency within its tier. Phrasings hold ``{slot}`` placeholders that
:mod:`taxonomy.samples.generate` fills (order numbers, amounts, names, e-mails, card numbers, ...).
"""

from __future__ import annotations

Intent = tuple[str, float, tuple[str, ...]]

I, P, A = "informational", "personalized", "action_led"

ECOMMERCE: dict[str, Intent] = {
    "shipping_options": (I, 4, (
        "Do you ship to {country}?",
        "How long does standard delivery take to {country}?",
        "Is there an express option and what does it cost?",
        "do you deliver on weekends",
        "What's the minimum order for free shipping?",
        "Can I pick up my order from a store instead of having it delivered?",
    )),
    "return_policy": (I, 4, (
        "What is your return policy?",
        "How many days do I have to send something back?",
        "Can sale items be returned or is it final sale?",
        "do i have to pay for the return postage",
        "If the shoes don't fit can I exchange them for another size?",
        "Do I need the original box to return an item?",
    )),
    "payment_methods": (I, 2, (
        "Can I pay with PayPal?",
        "Do you offer buy now pay later, like Klarna?",
        "Which cards do you accept at checkout?",
        "is apple pay an option",
        "Can I split the payment over two gift cards?",
    )),
    "product_info": (I, 3, (
        "Is the {product} machine washable?",
        "How does the {product} fit, should I size up?",
        "Does the {product} come with a warranty?",
        "Where do I find the size chart for the {product}?",
        "Will the {product} be back in stock in medium?",
    )),
    "discount_codes": (I, 2, (
        "How do I use a discount code?",
        "Do you have a student discount?",
        "Does the welcome code also work on sale items?",
        "when is your next sale",
    )),
    "order_status": (P, 6, (
        "Where is my order {order}?",
        "My order {order} still says processing, when will it ship?",
        "The tracking for {order} hasn't moved in {days} days.",
        "When will my package arrive? Order number {order}",
        "ordered on {date} and still nothing, order {order}",
        "Has order {order} left the warehouse yet?",
    )),
    "refund_status": (P, 3, (
        "I sent back my {product} {days} days ago, where is my refund?",
        "Have you received my return for order {order}?",
        "My refund still isn't on my card, it's been {days} days.",
        "When do I get my money back for {order}?",
    )),
    "charge_question": (P, 2, (
        "Why was I charged {amount} for order {order}? Checkout showed less.",
        "There are two pending charges on my card for one order, why?",
        "What is this {amount} payment to ShopWave on my statement?",
        "why did you take the money before my order shipped",
    )),
    "order_contents": (P, 2, (
        "Only one box of order {order} arrived, is the rest coming separately?",
        "Was my discount code applied to order {order}?",
        "Which address did order {order} ship to? I can't remember which one I picked.",
    )),
    "damaged_item": (A, 4, (
        "My {product} arrived broken and I want a refund.",
        "The {product} in order {order} is damaged, please send a replacement.",
        "Order {order} came with a torn {product}. I have photos.",
        "item arrived smashed, box was crushed. need a new one",
    )),
    "cancel_order": (A, 3, (
        "Please cancel my order {order}.",
        "I ordered the wrong size, can you cancel it before it ships?",
        "cancel order {order} i placed it twice by mistake",
        "I changed my mind, please stop order {order}.",
    )),
    "change_address": (A, 2, (
        "I need to change the delivery address on order {order} to {address}.",
        "Can you update the shipping address? I've moved to {address}.",
        "wrong address on my order {order}!! it should be {address}",
    )),
    "missing_package": (A, 3, (
        "Tracking says delivered but nothing arrived. Order {order}.",
        "I think my parcel was stolen from my doorstep, what can you do?",
        "I never received order {order}, please resend it or refund me.",
    )),
    "wrong_item": (A, 2, (
        "I received the wrong item in order {order}, I ordered a {product}.",
        "The {product} came in the wrong colour, I need an exchange.",
        "You sent me someone else's order. Mine was {order}.",
    )),
    "start_return": (A, 2, (
        "I'd like to return my {product}, can you send me a return label?",
        "How do I start a return for order {order}? Please set it up for me.",
        "I want to send back the {product}, it doesn't fit.",
    )),
}

SAAS: dict[str, Intent] = {
    "pricing_plans": (I, 5, (
        "What's the difference between the Pro and Business plans?",
        "Do you offer discounts for nonprofits?",
        "How much does an extra seat cost?",
        "Is there an annual plan and how much do we save?",
        "is there a free plan for small teams",
    )),
    "how_to_export": (I, 3, (
        "How do I export a board to CSV?",
        "Can I export all our projects at once?",
        "Is there a way to download attachments in bulk?",
        "how to export my tasks to excel",
    )),
    "sso_security": (I, 3, (
        "Do you support SAML SSO with Okta?",
        "Are you SOC 2 compliant?",
        "Where is our data stored, EU or US?",
        "Can we enforce two-factor auth for the whole workspace?",
    )),
    "integrations": (I, 3, (
        "Does LoopDesk integrate with Slack?",
        "Is there a Jira integration?",
        "Can I connect Google Calendar so due dates show up?",
        "do you have a zapier app",
    )),
    "password_howto": (I, 4, (
        "How do I reset my password?",
        "I forgot my password, how do I change it?",
        "Where do I change my login email?",
        "how do i turn on 2fa",
    )),
    "api_limits": (I, 2, (
        "What are the API rate limits?",
        "Is there a webhook for when a task is completed?",
        "Where can I find the API docs?",
    )),
    "invoice_question": (P, 3, (
        "Why is our invoice higher this month?",
        "We were charged {amount} but our plan is cheaper, why?",
        "Can you explain the prorated charge on invoice {invoice}?",
        "what is the {amount} charge on our last invoice",
    )),
    "workspace_usage": (P, 2, (
        "How many seats are we using right now?",
        "Which plan is our workspace on?",
        "Who is the owner of our workspace?",
        "how much storage have we used",
    )),
    "trial_status": (P, 2, (
        "When does our trial end?",
        "Will my card be charged automatically when the trial finishes?",
        "how many days left on my trial",
    )),
    "sync_failure": (P, 2, (
        "Why did the Google Calendar sync stop working for me?",
        "My Slack notifications stopped yesterday, what happened?",
        "The import from Trello failed halfway, can you tell me why?",
    )),
    "payment_failed": (P, 2, (
        "Why did our renewal payment fail?",
        "Our card was declined for the subscription, why?",
        "got an email saying payment failed but the card works fine",
    )),
    "cancel_subscription": (A, 3, (
        "Please cancel our subscription.",
        "We don't want to renew, cancel the plan at the end of the month.",
        "cancel my account please",
        "How do I cancel? Actually, can you just cancel it for me.",
    )),
    "refund_request": (A, 2, (
        "We were billed for a full year by mistake, we need a refund.",
        "I cancelled last week but you still charged {amount}, please refund it.",
        "Please refund the {amount} charge, we downgraded before renewal.",
    )),
    "change_owner": (A, 2, (
        "Please transfer workspace ownership to {email}.",
        "Our admin left the company, make me the owner of the workspace.",
        "can you change the account owner to my colleague {name}",
    )),
    "change_plan_seats": (A, 2, (
        "Downgrade us to the Starter plan please.",
        "Remove {seats} seats from our plan.",
        "Upgrade us to Business and add {seats} seats.",
    )),
    "restore_deleted": (A, 2, (
        "I accidentally deleted a project, can you restore it?",
        "A teammate deleted our roadmap board yesterday, please bring it back!",
        "restore my deleted tasks from last friday",
    )),
    "account_locked": (A, 2, (
        "I lost my phone and can't log in with 2FA, please reset it.",
        "My account is locked after too many attempts, unlock it please.",
        "I'm locked out, my login email is {email}",
    )),
    "billing_details": (A, 1, (
        "Please change the VAT number on our invoices to {vat}.",
        "Update the billing address on our account to {address}.",
        "Send future invoices to {email} instead.",
    )),
}

TRAVEL: dict[str, Intent] = {
    "baggage_allowance": (I, 4, (
        "How much luggage can I bring on a flight to {city}?",
        "Is a checked bag included in the basic fare?",
        "What's the hand luggage size limit?",
        "can i bring a stroller on board",
    )),
    "cancellation_policy": (I, 4, (
        "What is your cancellation policy for hotel bookings?",
        "If I cancel a flight do I get a refund or a voucher?",
        "How late can I cancel without paying a fee?",
        "are non refundable fares really non refundable",
    )),
    "check_in_info": (I, 3, (
        "When does online check-in open?",
        "What time is hotel check-in usually?",
        "Do I need to print my boarding pass?",
    )),
    "travel_documents": (I, 2, (
        "Do I need a visa to travel to {city}?",
        "Can I travel with an ID card instead of a passport?",
        "what documents does my child need to fly",
    )),
    "pets_payment": (I, 2, (
        "Can I bring my dog on the flight?",
        "Can I pay for my trip in instalments?",
        "Do you accept payment in euros?",
    )),
    "loyalty_program": (I, 2, (
        "How do I earn points with Wayfarer?",
        "How long are reward points valid?",
        "what can i use my points for",
    )),
    "booking_status": (P, 4, (
        "Is my booking {ref} confirmed?",
        "I haven't received a confirmation email for booking {ref}.",
        "Can you check if my hotel in {city} is booked? Reference {ref}",
        "where is my e-ticket for {ref}",
    )),
    "refund_status": (P, 3, (
        "My flight was cancelled {days} days ago, where is my refund?",
        "When will the refund for booking {ref} reach my account?",
        "the refund for my cancelled hotel hasn't arrived",
    )),
    "schedule_change_info": (P, 3, (
        "I got an email that my flight time changed, what's the new time?",
        "Is my flight {flight} on {date} still on schedule?",
        "Which terminal does my flight {flight} leave from?",
    )),
    "booking_details": (P, 2, (
        "Does my booking {ref} include breakfast?",
        "What's the address of my hotel for booking {ref}?",
        "Is a checked bag included in my booking {ref}?",
    )),
    "charge_question": (P, 2, (
        "Why was I charged a {amount} fee on booking {ref}?",
        "I was charged twice for my trip to {city}, why?",
        "what is the {amount} charge from wayfarer on my card",
    )),
    "cancel_booking": (A, 4, (
        "Please cancel my booking {ref}.",
        "I need to cancel my hotel in {city} for {date}.",
        "cancel my flight {flight} i can't travel anymore",
    )),
    "change_dates": (A, 4, (
        "Can you move my booking {ref} to {date}?",
        "I need to change my return flight to a day later.",
        "change my hotel dates in {city}, arriving {date} instead",
    )),
    "name_correction": (A, 2, (
        "My name is misspelled on booking {ref}, it should be {name}.",
        "The passenger name on my ticket is wrong, please correct it.",
    )),
    "add_extras": (A, 2, (
        "Please add a checked bag to booking {ref}.",
        "Can you add seat selection for both passengers on {flight}?",
        "I need wheelchair assistance at the airport for my flight on {date}.",
    )),
    "compensation_claim": (A, 3, (
        "My flight {flight} was delayed 5 hours, I want compensation.",
        "The hotel in {city} was nothing like the photos, I want a refund.",
        "We missed our connection because of your delay, please rebook us.",
    )),
}

FINTECH: dict[str, Intent] = {
    "fees_pricing": (I, 4, (
        "Do you charge a fee for international transfers?",
        "How much does it cost to withdraw cash abroad?",
        "Is the premium account worth it, what does it include?",
        "are there any monthly fees",
    )),
    "how_to_account": (I, 3, (
        "How do I add money to my account?",
        "How can I order a physical card?",
        "How do I set up a standing order?",
        "how old do you have to be to open an account",
    )),
    "limits_info": (I, 2, (
        "What's the daily limit for card payments?",
        "How much can I send abroad in one transfer?",
        "is there a limit on ATM withdrawals",
    )),
    "transfer_pending": (P, 4, (
        "Why is my transfer of {amount} still pending?",
        "I sent money to {name} {days} days ago and they haven't got it.",
        "my transfer says completed but the money isn't there",
    )),
    "balance_statement": (P, 3, (
        "Why is my balance lower than it should be?",
        "What is the {amount} charge on my statement from yesterday?",
        "My salary hasn't shown up in my account yet.",
    )),
    "card_declined": (P, 3, (
        "Why was my card declined at the supermarket?",
        "My card payment of {amount} was rejected, there is money on the account.",
        "card keeps getting declined online why",
    )),
    "block_card": (A, 3, (
        "My card was stolen, block it now please.",
        "I lost my wallet, freeze my card ending {last4}.",
        "someone used my card, block it!!",
    )),
    "dispute_charge": (A, 3, (
        "I don't recognise a {amount} payment, I want to dispute it.",
        "A merchant charged me twice, please get my money back.",
        "There's a direct debit I never set up, cancel it and refund me.",
    )),
    "update_details": (A, 2, (
        "Please change the address on my account to {address}.",
        "I got married, update my surname to {name}.",
        "change my phone number to {phone}",
    )),
    "close_account": (A, 2, (
        "Close my account and send the balance to {iban}.",
        "I want to close my account.",
        "please terminate my account, i'm moving banks",
    )),
}

INDUSTRY_BANKS: dict[str, dict[str, Intent]] = {
    "e-commerce": ECOMMERCE,
    "saas": SAAS,
    "travel": TRAVEL,
    "fintech": FINTECH,
}

# A few non-English openings, per tier (travel customers; language column set).
FOREIGN: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        I: ("¿Cuánto equipaje puedo llevar en el vuelo?", "¿Cuál es la política de cancelación?"),
        P: ("¿Está confirmada mi reserva {ref}?", "¿Dónde está mi reembolso? Cancelaron mi vuelo."),
        A: ("Quiero cancelar mi reserva {ref}, por favor.", "Necesito cambiar la fecha de mi vuelo al {date}."),
    },
    "de": {
        I: ("Wie viel Gepäck darf ich mitnehmen?", "Kann ich meinen Hund mitnehmen?"),
        P: ("Ist meine Buchung {ref} bestätigt?", "Wann bekomme ich meine Erstattung für {ref}?"),
        A: ("Bitte stornieren Sie meine Buchung {ref}.", "Mein Name ist falsch geschrieben, bitte korrigieren: {name}."),
    },
    "fr": {
        I: ("Combien de bagages puis-je emporter ?", "Quand ouvre l'enregistrement en ligne ?"),
        P: ("Ma réservation {ref} est-elle confirmée ?", "Je n'ai pas reçu mon remboursement."),
        A: ("Merci d'annuler ma réservation {ref}.", "Je veux changer la date de mon vol pour le {date}."),
    },
}
